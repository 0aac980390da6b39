#!/usr/bin/env bash
# Regenerate case.dict (libFuzzer dictionary) from `venosim schema`.
#   tests/fuzz/make-dict.sh build/tools/venosim > tests/fuzz/case.dict
set -euo pipefail
venosim="${1:?usage: make-dict.sh PATH/TO/venosim}"
echo '# libFuzzer dictionary for the case reader: every key of `venosim schema`,'
echo '# the enum values, and YAML punctuation. Regenerate with make-dict.sh.'
"$venosim" schema | grep -o '^| `[^`]*`' | sed 's/^| `//;s/`$//' | tr '.[]' '\n\n\n' |
  grep -v -e '^$' -e '[<>*]' | sort -u | sed 's/.*/"&:"/'
"$venosim" schema | grep -o 'enum: [^|]*' | grep -o '`[^`]*`' | tr -d '`' | sort -u | sed 's/.*/"&"/'
for t in '{' '}' '[' ']' ': ' '- ' '\x0A  ' '\x0A  - ' '.nan' '.inf' '-.inf' '1e308' 'true' 'null' '~' \
  '&a' '*a' '<<: ' '!!str' '\"' "'" '---' '...' '[*]' 'sweep:' 'grid:' 'zip:' 'random:' 'input:' \
  'values:' 'leg:' 'protocol:' 'seed:' 'samples:' 'scale:' 'max_runs:' 'column:' 'unit:' 'min:' 'max:'; do
  printf '"%s"\n' "$t"
done
