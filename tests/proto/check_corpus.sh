#!/bin/sh
# Checks that the committed seed corpora are exactly what gen_pdu_corpus.c produces, so a
# change to the codec or the fixtures cannot leave stale seeds behind.
# Usage: check_corpus.sh GENERATOR COMMITTED_DIR WORK_DIR
set -eu
gen=$1 committed=$2 work=$3
rm -rf "$work"
"$gen" "$work"
if diff -r "$committed" "$work"; then
  echo "seed corpora match the generator"
else
  echo "seed corpora are stale: regenerate with '$gen tests/proto/corpus'" >&2
  exit 1
fi
