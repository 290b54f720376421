#!/usr/bin/env bash
# Rebuilds only the glue targets' objects in an -O3 build dir and an -O1 one, alternately; prints per-TU seconds.
set -euo pipefail
export CCACHE_DISABLE=1
out=/work/tmp/glue-times; mkdir -p $out
for round in 1 2; do
for b in b-rel b-rel2; do
  cd /work/tmp/tc/$b
  rm -f cli/CMakeFiles/convlab.dir/*.o cli/CMakeFiles/convlab.dir/*.gch python/CMakeFiles/convlab_python.dir/*.o plots/CMakeFiles/convlab_plots.dir/*.o tests/CMakeFiles/convlab_tests.dir/*.o tests/CMakeFiles/convlab_tests.dir/*.gch
  n=$(wc -l < .ninja_log)
  /usr/bin/time -f "%e s wall %U user %S sys" -o $out/$b-r$round.time ninja -j2 convlab convlab_python convlab_plots convlab_tests >/dev/null
  tail -n +$((n+1)) .ninja_log | awk '{print ($2-$1)/1000, $4}' > $out/$b-r$round.tus
done
done
