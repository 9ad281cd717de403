#!/usr/bin/env bats
# bin/chain: py/make_chain.py on the real (empty) repository.

load helpers

setup() { common_setup; use_empty_repo; }

@test "chain: a missing child stops the step before anything changes" {
  run "$ROOT/bin/chain"
  [ "$status" -ne 0 ]
  [[ "$output" == *"do not exist"* ]]
  [ ! -e "$STATE/stamps/chain.done" ]
  grep -q "make_chain.py $REPO 2.2i/defaults LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary" "$STATE/logs/chain.log"
}

@test "chain: DRY_RUN prints the command" {
  DRY_RUN=1 run "$ROOT/bin/chain"
  [ "$status" -eq 0 ]
  [[ "$output" == "python3 $ROOT/py/make_chain.py $REPO 2.2i/defaults LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary" ]]
}

@test "chain: TRUTH_SUMMARY=no leaves TRUTH_COLLECTION out of the chain" {
  TRUTH_SUMMARY=no DRY_RUN=1 run "$ROOT/bin/chain"
  [ "$status" -eq 0 ]
  [[ "$output" == "python3 $ROOT/py/make_chain.py $REPO 2.2i/defaults LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats" ]]
}

@test "chain: TRUTH_SUMMARY other than yes or no is refused" {
  TRUTH_SUMMARY=maybe DRY_RUN=1 run "$ROOT/bin/chain"
  [ "$status" -ne 0 ]
  [[ "$output" == *"TRUTH_SUMMARY=maybe is neither yes nor no"* ]]
}
