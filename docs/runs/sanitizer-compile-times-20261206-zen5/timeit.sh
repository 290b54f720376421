#!/bin/bash
# compile launcher: log seconds per object
start=$(date +%s.%N)
"$@"; rc=$?
end=$(date +%s.%N)
out=""; prev=""
for a in "$@"; do [[ "$prev" == "-o" ]] && out="$a"; prev="$a"; done
echo "$(echo "$end - $start" | bc) $out" >> /work/tmp/compile-times.txt
exit $rc
