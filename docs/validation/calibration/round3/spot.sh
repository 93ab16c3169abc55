#!/bin/bash
# spot.sh CAND PROTOCOLS(comma) [runs] [seed], from the working folder of mk.py; SPINESIM = the release binary
d=$(dirname "$0")
c=$1; p=$2; n=${3:-12}; s=${4:-5}
${SPINESIM:-spinesim} run $c.toml --sweep protocol=$p --runs $n --seed $s --method slow-scale --threads 2 --record-every 100 --quiet --force --out out_${c}_${s}_$(echo $p|tr ',' '_') > $c.$s.log 2>&1
python3 "$d/summ.py" out_${c}_${s}_$(echo $p|tr ',' '_') $c
