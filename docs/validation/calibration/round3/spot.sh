#!/bin/bash
# spot.sh CAND PROTOCOLS(comma) [runs] [seed]
c=$1; p=$2; n=${3:-12}; s=${4:-5}
/work/main/target/release/spinesim run /tmp/me/cand/$c.toml --sweep protocol=$p --runs $n --seed $s --method slow-scale --threads 2 --record-every 100 --quiet --force --out /tmp/me/cand/out_${c}_${s}_$(echo $p|tr ',' '_') > /tmp/me/cand/$c.$s.log 2>&1
/tmp/venv/bin/python /tmp/me/cand/summ.py /tmp/me/cand/out_${c}_${s}_$(echo $p|tr ',' '_') $c
