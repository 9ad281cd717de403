#!/usr/bin/env bats
# bin/register-instrument: exact call, override, missing stack command, failure, dry run.

load helpers

setup() { common_setup; use_empty_repo; }

@test "register-instrument: --help" {
  run "$ROOT/bin/register-instrument" --help
  [ "$status" -eq 0 ]
  [[ "$output" == Usage:* ]]
}

@test "register-instrument: the technote's call with defaults, then with an override" {
  run "$ROOT/bin/register-instrument"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt register-instrument) register-instrument $REPO lsst.obs.lsst.LsstCamImSim
$(log_file_opt register-instrument) register-dataset-type $REPO raw Exposure instrument detector exposure" ]
  [ -f "$STATE/stamps/register-instrument.done" ]
  : >"$BUTLER_DOUBLE_LOG"
  INSTRUMENT_CLASS=lsst.obs.lsst.LsstCam run "$ROOT/bin/register-instrument"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt register-instrument) register-instrument $REPO lsst.obs.lsst.LsstCam
$(log_file_opt register-instrument) register-dataset-type $REPO raw Exposure instrument detector exposure" ]
}

@test "register-instrument: the command missing from the runtime gives one paragraph, no call" {
  export BUTLER_DOUBLE_MISSING=register-instrument
  run "$ROOT/bin/register-instrument"
  [ "$status" -ne 0 ]
  [[ "$output" == *"'register-instrument' is not available"*"obs_base"*"setup lsst_distrib"* ]]
  [[ "$output" != *Traceback* ]]
  [ -z "$(calls)" ]
  assert_no_trace_of_step register-instrument
}

@test "register-instrument: empty INSTRUMENT_CLASS is named" {
  INSTRUMENT_CLASS='' run "$ROOT/bin/register-instrument"
  [ "$status" -ne 0 ]
  [[ "$output" == *"INSTRUMENT_CLASS is empty"* ]]
  [ -z "$(calls)" ]
}

@test "register-instrument: no repository yet is a clear error" {
  rm -rf "$REPO"
  run "$ROOT/bin/register-instrument"
  [ "$status" -ne 0 ]
  [[ "$output" == *"REPO=$REPO is not a butler repository"*"make create"* ]]
}

@test "register-instrument: failure leaves no stamp; DRY_RUN runs nothing" {
  BUTLER_DOUBLE_FAIL=register-instrument run "$ROOT/bin/register-instrument"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/register-instrument.done" ]
  grep -q 'simulated failure' "$STATE/logs/register-instrument.log"
  rm -rf "$STATE"
  : >"$BUTLER_DOUBLE_LOG"
  DRY_RUN=1 run "$ROOT/bin/register-instrument"
  [ "$status" -eq 0 ]
  [[ "$output" == "butler register-instrument $REPO lsst.obs.lsst.LsstCamImSim
butler register-dataset-type $REPO raw Exposure instrument detector exposure" ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  [ ! -e "$STATE" ]
}

@test "register-instrument: an INSTRUMENT_CLASS whose module is not installed: one paragraph, no butler call, no traceback" {
  use_empty_repo
  INSTRUMENT_CLASS=lsst.obs.subaru.HyperSuprimeCam run -4 "$ROOT/bin/register-instrument"
  [[ "$output" == *"INSTRUMENT_CLASS=lsst.obs.subaru.HyperSuprimeCam cannot be loaded in this runtime: its module lsst.obs.subaru is not installed"*"make docker-repo"* ]]
  [[ "$output" != *Traceback* ]]
  [ -z "$(calls)" ]
  [ ! -e "$STATE/stamps/register-instrument.done" ]
}
