# shellcheck shell=bash
# dp02.sh: the one library every bin/ script sources.
#
# It loads the settings (environment > ENV_FILE > etc/$PROFILE.env > etc/defaults.env),
# validates them, writes the per-step log and stamp, and is the only place that calls
# `butler`, so that dry runs, logging, redaction and the stack-command check are the same
# for every step.

# Without a subshell: cd here and back (every script sources this on each start).
cd "${BASH_SOURCE[0]%/*}/../.." && DP02_HOME=$PWD && cd "$OLDPWD" || exit 2
DP02_SCRIPT=${0##*/}

# Every setting the toolkit knows, in the order `bin/config` prints them.
DP02_SETTINGS=(
  PROFILE DP02_TOP DP02_CALIB DP02_RAW DP02_REFCATS DP02_SKYMAP DP02_TRUTH_SUMMARY
  REPO STATE_DIR REGISTRY_DB REGISTRY_NAMESPACE
  INSTRUMENT_CLASS INSTRUMENT
  CALIB_COLLECTION CURATED_COLLECTION RAW_COLLECTION SKYMAP_COLLECTION REFCAT_COLLECTION
  DEFAULTS_CHAIN DEFAULTS_CHAIN_CHILDREN
  REFCAT_DATASET_TYPE REFCAT_STORAGE_CLASS REFCAT_DIMENSION REFCAT_FORMATTER
  TRUTH_SUMMARY TRUTH_DATASET_TYPE TRUTH_STORAGE_CLASS TRUTH_DIMENSIONS TRUTH_COLLECTION
  SKYMAP_CONFIG RAW_YEARS JOBS TRANSFER DRY_RUN
  VISIT_LIST EXPECTED_VISITS EXPECTED_REFCATS FITS_SAMPLE
  MINI_DIR MINI_YEARS MINI_VISITS MINI_SENSORS MINI_PIXELS
  RUNTIME REPO_CONTAINER CONTAINER_ENGINE STACK_IMAGE STACK_SIF IMAGE_TAG CONTAINER_RUN_OPTS
  CONTAINER_BUILD_OPTS STACK_PROBE_CACHE
  V23_WHEELHOUSE
  # make fetch-inputs and make export-calibs
  INPUTS_BASE_URL FETCH_ARCHIVES DOWNLOAD_DIR
  SOURCE_REPO EXPORT_CALIB_COLLECTION EXPORT_DIR
  # make raws SCHEDULER=slurm (bin/lib/slurm.sh)
  SCHEDULER CHUNK_VISITS SLURM_PARTITION SLURM_ACCOUNT SLURM_TIME SLURM_MEM SLURM_CPUS
  SLURM_EXTRA WAIT
)
# Settings that name a path: made absolute (from the current directory) once loaded.
DP02_PATH_SETTINGS=(DP02_TOP DP02_CALIB DP02_RAW DP02_REFCATS DP02_SKYMAP DP02_TRUTH_SUMMARY
  REPO STATE_DIR
  SKYMAP_CONFIG VISIT_LIST MINI_DIR V23_WHEELHOUSE DOWNLOAD_DIR EXPORT_DIR STACK_PROBE_CACHE)

# ---------------------------------------------------------------- messages and errors

dp02_log() {
  # Progress line on the console (stderr keeps stdout free for data such as dry-run lines).
  printf '%s\n' "$*" >&2
}

dp02_warn() {
  printf '%s: warning: %s\n' "$DP02_SCRIPT" "$*" >&2
}

dp02_die() {
  # One paragraph naming the input, the problem and the fix; exit status 2 by default.
  local status=2
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then status=$1; shift; fi
  local msg
  msg=$(dp02_redact "$*")
  printf '%s: error: %s\n' "$DP02_SCRIPT" "$msg" >&2
  if [[ -n "${DP02_STEP_LOG:-}" && -f "$DP02_STEP_LOG" ]]; then
    printf 'error: %s\n' "$msg" >>"$DP02_STEP_LOG"
  fi
  exit "$status"
}

dp02_redact() {
  # Hide the password of every URL in the text given. The rule has one home,
  # py/url_credentials.py (URLs parsed by SQLAlchemy and urllib); text without "://" holds
  # no URL and is printed as it is, without starting Python. The text goes through the
  # environment, not the command line (ps shows arguments).
  local text="$*" out
  if [[ "$text" != *://* ]]; then
    printf '%s' "$text"
    return 0
  fi
  if out=$(DP02_REDACT_TEXT=$text python3 "$DP02_HOME/py/url_credentials.py" redact 2>/dev/null); then
    printf '%s' "$out"
  else
    # No Python to parse them: hide every URL whole.
    printf '%s' "$text" | sed -E 's#://[^[:space:]]*#://***#g'
  fi
}

dp02_usage_exit() {
  # Print the calling script's usage text (a `usage` function) and exit 0.
  usage
  exit 0
}

# ---------------------------------------------------------------- settings

_dp02_read_env_file() {
  # Parse an env file into the associative array named $2 (KEY -> value as written):
  # comments and blanks skipped, no subshell (settings load on every script start).
  local file=$1 target=$2 line key value
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z "$line" || "$line" == \#* ]] && continue
    line="${line#export }"
    if [[ ! "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      dp02_die "the settings file $file has a line that is not KEY=value: '$line'. Fix that line (see .env.example for the format)."
    fi
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    value="${value%"${value##*[![:space:]]}"}"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    printf -v "${target}[$key]" '%s' "$value"
  done <"$file"
}

_dp02_expand() {
  # Set _DP02_VALUE to $1 with each ${NAME} replaced by the resolved value of NAME
  # (depth-limited). A value that refers to an empty setting is empty itself
  # (DP02_CALIB=${DP02_TOP}/calib with no DP02_TOP is not /calib), so the step that needs it
  # says what to set. Results go through a global, not stdout: no subshell per setting.
  local text=$1 depth=${2:-0} name
  while [[ "$text" =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
    name=${BASH_REMATCH[1]}
    ((depth < 10)) || dp02_die "the setting references loop through \${$name}: fix the settings file so that no setting refers to itself."
    _dp02_resolve "$name" $((depth + 1))
    if [[ -z "$_DP02_VALUE" ]]; then
      return 0
    fi
    text=${text//\$\{$name\}/$_DP02_VALUE}
  done
  _DP02_VALUE=$text
}

_dp02_resolve() {
  # Set _DP02_VALUE to the final value of one setting: environment first, then the files
  # in precedence order.
  local name=$1 depth=${2:-0}
  _DP02_VALUE=
  if [[ -n "${_DP02_FROM_ENV[$name]+x}" ]]; then
    _DP02_VALUE=${_DP02_FROM_ENV[$name]}
  elif [[ -n "${_DP02_FILE_VALUES[$name]+x}" ]]; then
    _dp02_expand "${_DP02_FILE_VALUES[$name]}" "$depth"
  fi
}

dp02_load_config() {
  # Resolve every setting into a shell variable of the same name, exported.
  declare -gA _DP02_FROM_ENV=() _DP02_FILE_VALUES=()
  local name key value file
  for name in "${DP02_SETTINGS[@]}" ENV_FILE; do
    if [[ -n "${!name+x}" ]]; then _DP02_FROM_ENV[$name]=${!name}; fi
  done
  local env_file=${ENV_FILE:-.env}
  local profile=${PROFILE:-}
  declare -A env_values=()
  if [[ -f "$env_file" ]]; then
    _dp02_read_env_file "$env_file" env_values
    [[ -n "$profile" ]] || profile=${env_values[PROFILE]:-}
  fi
  profile=${profile:-mini}
  local profile_file="$DP02_HOME/etc/$profile.env"
  if [[ ! -f "$profile_file" ]]; then
    local known=() f
    for f in "$DP02_HOME"/etc/*.env; do
      f=$(basename "$f" .env)
      [[ "$f" == defaults ]] || known+=("$f")
    done
    dp02_die "PROFILE=$profile names no profile: $profile_file does not exist. Use one of: ${known[*]}."
  fi
  # Lowest precedence first, so that later files overwrite earlier ones.
  _dp02_read_env_file "$DP02_HOME/etc/defaults.env" _DP02_FILE_VALUES
  _dp02_read_env_file "$profile_file" _DP02_FILE_VALUES
  # The keys of the settings file, for the unknown-key warnings of dp02_check_settings.
  DP02_ENV_FILE=
  DP02_ENV_FILE_KEYS=
  [[ ! -f "$env_file" ]] || DP02_ENV_FILE=$env_file
  for key in "${!env_values[@]}"; do
    _DP02_FILE_VALUES[$key]=${env_values[$key]}
    DP02_ENV_FILE_KEYS+="$key "
  done
  _DP02_FILE_VALUES[PROFILE]=$profile
  for name in "${DP02_SETTINGS[@]}"; do
    _dp02_resolve "$name"
    printf -v "$name" '%s' "$_DP02_VALUE"
    export "${name?}"
  done
  for name in "${DP02_PATH_SETTINGS[@]}"; do
    value=${!name}
    if [[ -n "$value" && "$value" != /* ]]; then
      printf -v "$name" '%s' "$PWD/$value"
    fi
  done
  DP02_STAMPS="$STATE_DIR/stamps"
  DP02_LOGS="$STATE_DIR/logs"
  export DP02_STAMPS DP02_LOGS
}

dp02_require_set() {
  # Each named setting must be non-empty.
  local name hint
  for name in "$@"; do
    [[ -z "${!name:-}" ]] || continue
    hint=
    if [[ "${_DP02_FILE_VALUES[$name]:-}" =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; then
      hint=" (its default, ${_DP02_FILE_VALUES[$name]}, is derived from ${BASH_REMATCH[1]}, which is empty)"
    fi
    dp02_die "the setting $name is empty$hint, and this step needs it. Set ${BASH_REMATCH[1]:-$name} in your .env (see .env.example for its meaning and default) or on the command line (make ... NAME=VALUE)."
  done
}

_dp02_missing_path() {
  # A path that does not exist stops the step; in a dry run it is only a warning, since an
  # earlier step of the same run (mini-inputs, refcat-table) may be what would make it.
  if dp02_dry_run; then
    dp02_warn "$1 (dry run: continuing)"
    return 0
  fi
  dp02_die "$1"
}

dp02_require_dir() {
  # The setting names an existing, readable directory.
  local name=$1
  dp02_require_set "$name"
  if [[ ! -d "${!name}" ]]; then
    _dp02_missing_path "$name=${!name} does not exist or is not a directory. Point $name at the right directory in your .env (or make the inputs with 'make mini-inputs' for the miniature tree)."
    return 0
  fi
  [[ -r "${!name}" && -x "${!name}" ]] || dp02_die "$name=${!name} is not readable by this user. Fix its permissions or point $name elsewhere."
}

dp02_require_file() {
  # The setting names an existing, readable file.
  local name=$1
  dp02_require_set "$name"
  if [[ ! -f "${!name}" ]]; then
    _dp02_missing_path "$name=${!name} does not exist or is not a file. Point $name at the right file in your .env."
    return 0
  fi
  [[ -r "${!name}" ]] || dp02_die "$name=${!name} is not readable by this user. Fix its permissions or point $name elsewhere."
}

dp02_require_positive_int() {
  local name=$1
  [[ "${!name:-}" =~ ^[1-9][0-9]*$ ]] || dp02_die "$name=${!name:-} is not a positive whole number. Set $name to 1 or more."
}

dp02_require_no_password() {
  # The named settings carry no password, in any form a URL can carry one: the rule of
  # py/url_credentials.py (its one home), which reads the values from the environment.
  # A value without "://" is no URL and carries none: no Python is started for those.
  local name urls=() msg status=0
  for name in "$@"; do
    [[ "${!name:-}" != *://* ]] || urls+=("$name")
  done
  ((${#urls[@]})) || return 0
  command -v python3 >/dev/null 2>&1 || dp02_die "${urls[*]} must be checked for a password before anything runs, and python3 is not on PATH: install python3 (its standard library suffices) or run 'make install', or set up the stack."
  msg=$(python3 "$DP02_HOME/py/url_credentials.py" check "${urls[@]}" 2>&1) || status=$?
  case "$status" in
    0) return 0 ;;
    2) [[ -n "$msg" ]] && dp02_die "$(printf '%s' "$msg" | tr '\n' ' ' | sed 's/ $//')" ;;
  esac
  dp02_die "the settings ${urls[*]} could not be checked for a password (py/url_credentials.py exit $status): is python3 the runtime's Python (make install, or the stack)?"
}

dp02_require_registry_url() {
  # REGISTRY_DB is empty (SQLite) or a PostgreSQL URL without a password.
  [[ -z "$REGISTRY_DB" ]] && return 0
  dp02_require_no_password REGISTRY_DB
  # A bare postgresql:// means psycopg (v3) to SQLAlchemy 2; daf_butler needs psycopg2.
  [[ "$REGISTRY_DB" =~ ^postgresql\+psycopg2:// ]] || dp02_die "REGISTRY_DB=$REGISTRY_DB is not a PostgreSQL URL that daf_butler can use. Leave REGISTRY_DB empty for SQLite, or write postgresql+psycopg2://USER@HOST:PORT/DATABASE (daf_butler supports only the psycopg2 driver, and SQLAlchemy 2 reads a bare postgresql:// as psycopg v3)."
}

dp02_check_settings() {
  # Validate every setting at once, before anything runs (py/check_settings.py): type,
  # range and allowed values, TRANSFER against the runtime's butler, passwords in URLs;
  # a key of the settings file that is no setting gets a warning naming the closest one.
  # It only reads (values from the environment), so it runs in a dry run too.
  _dp02_check_settings "${DP02_ENV_FILE_KEYS:-}" "${DP02_SETTINGS[@]}"
}

dp02_check_settings_of() {
  # dp02_check_settings_of NAME...: the same checks, of these settings only (no key of the
  # settings file is then called unknown).
  _dp02_check_settings "" "$@"
}

_dp02_check_settings() {
  local status=0 keys=$1
  shift
  python3 "$DP02_HOME/py/check_settings.py" --prog "$DP02_SCRIPT" --env-file "${DP02_ENV_FILE:-}" \
    --env-file-keys "$keys" "$@" || status=$?
  case "$status" in
    0) return 0 ;;
    2) dp02_die "the settings above are not valid, so nothing was run: fix them in ${DP02_ENV_FILE:-your .env} or on the command line (make ... NAME=VALUE); .env.example explains each setting." ;;
    *) dp02_die "the settings could not be checked (py/check_settings.py exit $status): is python3 the runtime's Python ('make install', or the stack set up)?" ;;
  esac
}

dp02_is_sqlite() {
  [[ -z "$REGISTRY_DB" ]]
}

# ---------------------------------------------------------------- steps

dp02_steps() {
  # The ordered list of steps of `make repo`, one per line (raws expanded per year).
  local year
  printf '%s\n' check-inputs create register-instrument import-calibs curated-calibs \
    register-skymap refcat-table refcats
  for year in $RAW_YEARS; do printf 'raws-%s\n' "$year"; done
  printf '%s\n' visits truth-summary chain verify
}

dp02_truth_summary_on() {
  # TRUTH_SUMMARY=yes (the default) or no; anything else stops the step.
  case "${TRUTH_SUMMARY:-yes}" in
    yes) return 0 ;;
    no) return 1 ;;
    *) dp02_die "TRUTH_SUMMARY=$TRUTH_SUMMARY is neither yes nor no. Set TRUTH_SUMMARY=yes to ingest the truth summary (DP02_TRUTH_SUMMARY), or no to build without it." ;;
  esac
}

dp02_chain_children() {
  # The children of DEFAULTS_CHAIN, one per line: DEFAULTS_CHAIN_CHILDREN, without
  # TRUTH_COLLECTION when TRUTH_SUMMARY=no (that step then makes no collection).
  local children c
  read -r -a children <<<"$DEFAULTS_CHAIN_CHILDREN"
  for c in ${children[@]+"${children[@]}"}; do
    if [[ "$c" == "$TRUTH_COLLECTION" ]] && ! dp02_truth_summary_on; then continue; fi
    printf '%s\n' "$c"
  done
}

dp02_step_index() {
  # Print "k/N" for step $1.
  local step=$1 k=0 n=0 s
  while IFS= read -r s; do
    n=$((n + 1))
    [[ "$s" == "$step" ]] && k=$n
  done < <(dp02_steps)
  printf '%s/%s' "$k" "$n"
}

dp02_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
dp02_epoch() { date +%s.%N; }
# Seconds, one decimal, from epoch $1 to epoch $2 (default: now).
dp02_elapsed() { awk -v a="$1" -v b="${2:-$(dp02_epoch)}" 'BEGIN {printf "%.1f", b - a}'; }

dp02_toolkit_revision() {
  # The image has no .git: it carries its revision in DP02_TOOLKIT_REVISION.
  if [[ -n "${DP02_TOOLKIT_REVISION:-}" ]]; then
    printf '%s' "$DP02_TOOLKIT_REVISION"
    return 0
  fi
  git -C "$DP02_HOME" rev-parse --short HEAD 2>/dev/null || printf 'unknown'
}

dp02_stack_release() {
  # The EUPS release tag (e.g. v23_0_0) of the set-up lsst_distrib, read from the tag chain
  # files beside it ($EUPS_PATH/ups_db/lsst_distrib/<tag>.chain hold "VERSION = <version>"),
  # so no Python is started. LSST_DISTRIB_DIR is <EUPS_PATH>/<flavor>/lsst_distrib/<version>.
  [[ -n "${LSST_DISTRIB_DIR:-}" ]] || return 1
  local version db chain tag
  version=$(basename "$LSST_DISTRIB_DIR")
  db="$(dirname "$(dirname "$(dirname "$LSST_DISTRIB_DIR")")")/ups_db/lsst_distrib"
  for chain in "$db"/*.chain; do
    [[ -f "$chain" ]] || continue
    tag=$(basename "$chain" .chain)
    [[ "$tag" == current || "$tag" == setup ]] && continue
    if grep -qE "^[[:space:]]*VERSION[[:space:]]*=[[:space:]]*${version//+/\\+}[[:space:]]*$" "$chain"; then
      printf '%s' "$tag"
      return 0
    fi
  done
  # No tag names this version (a weekly or a local build): the version is the best name.
  printf '%s' "$version"
}

dp02_stack_version() {
  # The stack release tag when a stack is set up, else "lite"; then the daf_butler version,
  # from the package metadata (no import of daf_butler) or, in an EUPS stack without it,
  # from the version module.
  local release v
  if dp02_stack_in_container; then
    # The stack commands ran in the container: its image is the stack.
    printf 'container %s' "$("$DP02_HOME/bin/container" image 2>/dev/null || printf 'unknown')"
    return 0
  fi
  release=$(dp02_stack_release) || release=lite
  v=$(python3 -c 'from importlib.metadata import version; print(version("lsst-daf-butler"))' 2>/dev/null) ||
    v=$(python3 -c 'import lsst.daf.butler.version as v; print(v.__version__)' 2>/dev/null) || v=unknown
  printf '%s (daf_butler %s)' "$release" "$v"
  # DP02_STACK_NOTE: set by test tooling (make demo, the tests) whose stack commands are
  # stand-ins, so that no stamp of such a build passes for one made by the LSST stack.
  if [[ -n "${DP02_STACK_NOTE:-}" ]]; then printf ', %s' "$DP02_STACK_NOTE"; fi
}

dp02_dry_run() {
  [[ -n "${DRY_RUN:-}" && "${DRY_RUN}" != 0 ]]
}

_dp02_lock() {
  # SQLite allows one writer: a second build step on the same SQLite registry is refused
  # before it starts rather than left to time out or corrupt the file.
  dp02_is_sqlite || return 0
  exec {DP02_LOCK_FD}>"$STATE_DIR/.registry.lock"
  if ! flock -n "$DP02_LOCK_FD"; then
    dp02_die 3 "another step ($(cat "$STATE_DIR/.registry.owner" 2>/dev/null || echo unknown)) is writing to the SQLite registry of REPO=$REPO. SQLite takes one writer at a time, so concurrent steps (make -j, or two builds on one repository) would serialize or time out. Run the steps one after another (make without -j), or use a PostgreSQL registry (REGISTRY_DB) to ingest years concurrently."
  fi
  printf '%s (pid %s)\n' "$DP02_STEP" "$$" >"$STATE_DIR/.registry.owner"
}

dp02_step_begin() {
  # Start step $1: lock, open its log, note the start time. Nothing is written in a dry run.
  DP02_STEP=$1
  # Start and duration count from the script's start (dp02_init): settings and checks
  # included, so that the steps' durations add up to the build's wall time.
  DP02_STEP_START=${DP02_SCRIPT_START:-$(dp02_now)}
  DP02_STEP_T0=${DP02_SCRIPT_T0:-$(dp02_epoch)}
  DP02_STEP_COMMANDS=()
  DP02_STEP_OPEN=1
  if dp02_dry_run; then
    DP02_STEP_LOG=
    return 0
  fi
  mkdir -p "$DP02_STAMPS" "$DP02_LOGS"
  _dp02_lock
  DP02_STEP_LOG="$DP02_LOGS/$DP02_STEP.log"
  DP02_STEP_CHECKED=
  _dp02_rotate_log "$DP02_STEP_LOG"
  printf '# step %s started %s (toolkit %s)\n' "$DP02_STEP" "$DP02_STEP_START" \
    "$(dp02_toolkit_revision)" >"$DP02_STEP_LOG"
  trap '_dp02_step_exit $?' EXIT
  # A signal ends the step as interrupted, not failed (make status, make report): the
  # traps run once the foreground command has returned, then exit with the usual status.
  trap '_dp02_step_signal 129' HUP
  trap '_dp02_step_signal 130' INT
  trap '_dp02_step_signal 143' TERM
}

_dp02_rotate_log() {
  # Keep an earlier attempt's log as LOG.1, LOG.2, ... (1 the oldest) instead of truncating
  # it: after an interruption and a resume, what the interrupted attempt wrote is still there
  # (and make report shows that attempt). LOG itself is always the latest attempt.
  local log=$1 n=1
  [[ -s "$log" ]] || return 0
  while [[ -e "$log.$n" ]]; do n=$((n + 1)); done
  mv -f "$log" "$log.$n"
}

_dp02_step_signal() {
  # INT, TERM, HUP trap of a step: $1 is the exit status (128 + the signal's number).
  DP02_STEP_SIGNAL=$1
  exit "$1"
}

_dp02_step_exit() {
  # EXIT trap: a step that did not reach dp02_step_done failed; say so once, with its log.
  local status=$1
  [[ -n "${DP02_STEP_OPEN:-}" ]] || return 0
  DP02_STEP_OPEN=
  local word=FAILED
  if [[ -n "${DP02_STEP_SIGNAL:-}" ]]; then
    status=$DP02_STEP_SIGNAL
    word=INTERRUPTED
  fi
  [[ -n "${DP02_STEP_LOG:-}" ]] && printf '# step %s %s (exit %s) %s\n' "$DP02_STEP" "$word" "$status" "$(dp02_now)" >>"$DP02_STEP_LOG"
  dp02_log "[$(dp02_step_index "$DP02_STEP")] $DP02_STEP ... $word (exit $status), log: ${DP02_STEP_LOG:-none}"
}

dp02_step_done() {
  # Finish the step: write its stamp atomically and print the one console line.
  # $1 (optional) says why nothing had to be done ("already done (...)").
  local note=${1:-} end t1 duration tmp revision stack c commands=()
  if ! dp02_dry_run; then
    # What the stamp says besides the times first (the stack version starts a Python), so
    # that the duration covers the whole step: settings, checks, commands and stamp.
    revision=$(dp02_toolkit_revision)
    stack=$(dp02_stack_version)
    # ${a[@]+...}: an empty array under set -u is an error in bash 4.2 (CentOS 7, the v23 image).
    for c in ${DP02_STEP_COMMANDS[@]+"${DP02_STEP_COMMANDS[@]}"}; do
      commands+=("$(dp02_redact "$c")")
    done
  fi
  end=$(dp02_now)
  t1=$(dp02_epoch)
  duration=$(dp02_elapsed "$DP02_STEP_T0" "$t1")
  DP02_STEP_OPEN=
  if dp02_dry_run; then
    return 0
  fi
  tmp=$(mktemp "$DP02_STAMPS/.$DP02_STEP.XXXXXX")
  {
    printf 'step: %s\n' "$DP02_STEP"
    printf 'start: %s\n' "$DP02_STEP_START"
    printf 'end: %s\n' "$end"
    printf 'duration_s: %s\n' "$duration"
    printf 'result: %s\n' "${note:-done}"
    printf 'toolkit_revision: %s\n' "$revision"
    printf 'stack: %s\n' "$stack"
    printf 'commands:\n'
    for c in ${commands[@]+"${commands[@]}"}; do
      printf '  - %s\n' "$c"
    done
  } >"$tmp"
  # mktemp makes it 0600: another operator's make status must read it too.
  chmod 0644 "$tmp"
  mv -f "$tmp" "$DP02_STAMPS/$DP02_STEP.done"
  printf '# step %s done %s in %s s%s\n' "$DP02_STEP" "$end" "$duration" "${note:+ ($note)}" >>"$DP02_STEP_LOG"
  if [[ -n "$note" ]]; then
    dp02_log "[$(dp02_step_index "$DP02_STEP")] $DP02_STEP ... $note"
  else
    dp02_log "[$(dp02_step_index "$DP02_STEP")] $DP02_STEP ... done in $duration s${DP02_STACK_NOTE:+ ($DP02_STACK_NOTE)}"
  fi
}

dp02_quote() {
  # The command line as one string a person could paste into a shell.
  local out="" a
  for a in "$@"; do
    if [[ -n "$a" && "$a" =~ ^[A-Za-z0-9_./:=+,@%^-]+$ ]]; then
      out+="${out:+ }$a"
    else
      out+="${out:+ }$(printf '%q' "$a")"
    fi
  done
  printf '%s' "$out"
}

dp02_run() {
  # Run a command as part of the current step: recorded in the stamp, output to the log;
  # in a dry run only printed.
  local line
  line=$(dp02_quote "$@")
  if dp02_dry_run; then
    printf '%s\n' "$(dp02_redact "$line")"
    return 0
  fi
  DP02_STEP_COMMANDS+=("$line")
  printf '$ %s\n' "$(dp02_redact "$line")" >>"$DP02_STEP_LOG"
  local status=0
  if [[ -t 2 && -n "${DP02_SHOW_OUTPUT:-}" ]]; then
    "$@" 2>&1 | tee -a "$DP02_STEP_LOG" >&2 || status=${PIPESTATUS[0]}
  else
    "$@" >>"$DP02_STEP_LOG" 2>&1 || status=$?
  fi
  if ((status != 0)); then
    dp02_log "--- last lines of $DP02_STEP_LOG:"
    tail -n 15 "$DP02_STEP_LOG" | sed 's/^/    /' >&2
    return "$status"
  fi
}

dp02_butler() {
  # Run `butler CMD ARGS...` with the step's JSON log file; --progress on a terminal for
  # the long ingest commands. A stack command runs in the container with REPO_CONTAINER=yes.
  local global=() show="" via=()
  dp02_dry_run || global+=(--log-file "$DP02_LOGS/$DP02_STEP.json")
  case "$1" in
    ingest-raws | ingest-files | import | define-visits)
      if [[ -t 2 ]]; then global+=(--progress) show=1; fi ;;
  esac
  if dp02_is_stack_command "$1" && dp02_stack_in_container; then
    via=("$DP02_HOME/bin/container" exec)
  fi
  DP02_SHOW_OUTPUT=$show dp02_run ${via[@]+"${via[@]}"} butler ${global[@]+"${global[@]}"} "$@"
}

dp02_python() {
  # Run one of the py/ scripts with the runtime's Python (the venv's or the stack's).
  local script=$1
  shift
  python3 "$DP02_HOME/py/$script" "$@"
}

# ---------------------------------------------------------------- the stack

dp02_command_package() {
  # Which package provides a butler subcommand (REFERENCE section 2).
  case "$1" in
    register-instrument) printf 'obs_base at v23, pipe_base from release 24' ;;
    write-curated-calibrations | ingest-raws | define-visits) printf 'obs_base' ;;
    register-skymap) printf 'pipe_tasks' ;;
    *) printf 'daf_butler' ;;
  esac
}

dp02_require_butler() {
  dp02_dry_run && return 0
  command -v butler >/dev/null 2>&1 || dp02_die "the butler command is not on PATH. Run 'make install' for the lite runtime (.venv), or set up the LSST stack ('source loadLSST.bash && setup lsst_distrib'), or use the container (make docker-repo)."
  command -v python3 >/dev/null 2>&1 || dp02_die "python3 is not on PATH. Run 'make install' or set up the LSST stack."
}

# The butler commands a build needs beyond daf_butler's own (register-instrument is
# obs_base's at v23, pipe_base's from release 24).
DP02_STACK_COMMANDS=(register-instrument write-curated-calibrations register-skymap
  ingest-raws define-visits)

dp02_is_stack_command() {
  [[ " ${DP02_STACK_COMMANDS[*]} " == *" $1 "* ]]
}

dp02_stack_in_container() {
  # REPO_CONTAINER=yes: the toolkit runs here (make, the checks, sbatch) and each stack
  # command in the container (bin/container exec), e.g. in every Slurm task. Inside the
  # container (DP02_IN_CONTAINER, set by the image and the entrypoint) it runs as is.
  [[ "${REPO_CONTAINER:-no}" == yes && -z "${DP02_IN_CONTAINER:-}" ]]
}

dp02_stack_missing() {
  # Print the commands of DP02_STACK_COMMANDS that this runtime's butler lacks (all of them
  # without a butler), each followed by a space. `butler --help` starts Python and
  # imports every plugin, so the answer is cached in STACK_PROBE_CACHE (default
  # STATE_DIR/.stack-probe), keyed on the butler's path and mtime and the plugin and stack
  # settings: one probe per build, or per machine when builds share the file (CI).
  local butler key cache line missing="" cmd
  butler=$(command -v butler 2>/dev/null) || {
    printf '%s ' "${DP02_STACK_COMMANDS[@]}"
    return 0
  }
  key="$butler $(stat -c %Y "$butler" 2>/dev/null) ${DAF_BUTLER_PLUGINS:-} ${LSST_DISTRIB_DIR:-} ${PYTHONPATH:-}"
  cache=${STACK_PROBE_CACHE:-$STATE_DIR/.stack-probe}
  if [[ -f "$cache" ]]; then
    { IFS= read -r line && IFS= read -r missing; } <"$cache" || line=
    if [[ "$line" == "$key" ]]; then
      printf '%s' "$missing"
      return 0
    fi
    missing=""
  fi
  # One `butler --help` lists every command that imports: a plugin command that fails to
  # import is left out of the list with a warning (daf_butler 23 and today), so the list
  # answers for each command, for one Python start instead of one per command.
  local listed
  listed=" $({ butler --help 2>/dev/null || true; } | dp02_help_commands | tr '\n' ' ')"
  for cmd in "${DP02_STACK_COMMANDS[@]}"; do
    [[ "$listed" == *" $cmd "* ]] || missing+="$cmd "
  done
  # Written whole, then renamed: builds sharing the file never read half of it.
  if ! dp02_dry_run && mkdir -p "$(dirname "$cache")" 2>/dev/null; then
    printf '%s\n%s\n' "$key" "$missing" >"$cache.$$" && mv -f "$cache.$$" "$cache"
  fi
  printf '%s' "$missing"
}

dp02_help_commands() {
  # The command names of `butler --help` (stdin), one per line: the "Commands:" section's
  # lines that start with two spaces and a name (click wraps long help onto deeper lines).
  awk '/^Commands:/ {on = 1; next} on && /^  [a-z][a-z0-9-]*( |$)/ {print $1}'
}

dp02_require_command() {
  # A stack command must exist before the step calls it (`butler --help` lists it, as
  # probed once per build by dp02_stack_missing).
  local cmd=$1
  dp02_require_butler
  dp02_dry_run && return 0
  if dp02_stack_in_container; then
    # The container has the stack (its entrypoint checks the commands at each start): what
    # must be there is the engine and the image.
    "$DP02_HOME/bin/container" ready
    return 0
  fi
  if [[ " $(dp02_stack_missing)" == *" $cmd "* ]]; then
    dp02_die 4 "the butler command '$cmd' is not available in this runtime. It is provided by the LSST stack package $(dp02_command_package "$cmd"), which is not on PyPI, so the lite runtime (.venv) cannot run this step. Run the build in the container (make docker-repo, see README 'Container'), or on a site install of the stack after 'source loadLSST.bash && setup lsst_distrib'."
  fi
}

dp02_repo_exists() {
  [[ -f "$REPO/butler.yaml" ]]
}

# The create step marks the repository it made, and STATE_DIR with it, with one id:
# REPO/.dp02-repo and STATE_DIR/repo-id (first line: the id).
DP02_REPO_MARKER=.dp02-repo

dp02_mark_repo() {
  # After a successful create: a new id in REPO/.dp02-repo and STATE_DIR/repo-id.
  local id tmp
  dp02_dry_run && return 0
  [[ -d "$REPO" ]] || return 0  # a create that made no directory (a test double's) has nothing to mark
  id="$(date -u +%Y%m%dT%H%M%SZ)-$$-$RANDOM"
  tmp=$(mktemp "$REPO/.dp02-repo.XXXXXX")
  printf '%s\nmade by dp02-repo create for STATE_DIR=%s\n' "$id" "$STATE_DIR" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$REPO/$DP02_REPO_MARKER"
  printf '%s\n' "$id" >"$STATE_DIR/repo-id.tmp" && mv -f "$STATE_DIR/repo-id.tmp" "$STATE_DIR/repo-id"
}

dp02_repo_is_ours() {
  # True when REPO is the repository this STATE_DIR's create made (the same id in both).
  local ours="" theirs=""
  [[ -f "$STATE_DIR/repo-id" && -f "$REPO/$DP02_REPO_MARKER" ]] || return 1
  IFS= read -r ours <"$STATE_DIR/repo-id" || return 1
  IFS= read -r theirs <"$REPO/$DP02_REPO_MARKER" || return 1
  [[ -n "$ours" && "$ours" == "$theirs" ]]
}

_dp02_repo_attempt() {
  # At a step's first registry check (before the step writes what the check asks about):
  # true when this is the step's first attempt on the repository this STATE_DIR created, so
  # that the check need not ask the registry (dp02_state): nothing of the step's can be
  # there yet. Every attempt, by any build, is recorded in the repository's marker first, so
  # a second attempt (after a kill, a lost stamp or a reset), or another STATE_DIR's, always
  # asks; so does a repository the toolkit did not make (no marker) or made for another
  # STATE_DIR.
  local marker="$REPO/$DP02_REPO_MARKER" line first=
  [[ -f "$marker" ]] || return 1
  if dp02_repo_is_ours; then
    first=1
    while IFS= read -r line; do
      [[ "$line" == "attempt: $DP02_STEP" ]] && { first=; break; }
    done <"$marker"
  fi
  # One short line with O_APPEND: concurrent steps on this host (make -j) do not mix them.
  # An attempt that could not be recorded must not skip the check: the next would skip too.
  printf 'attempt: %s\n' "$DP02_STEP" >>"$marker" 2>/dev/null || return 1
  [[ -n "$first" ]]
}

dp02_require_repo() {
  dp02_dry_run && return 0
  dp02_repo_exists || dp02_die "REPO=$REPO is not a butler repository (no butler.yaml). Run 'make create' first, or point REPO at the repository you are building."
}

# ---------------------------------------------------------------- script start

dp02_init() {
  # Common start of every script: --help, settings. $1 is the step name, the rest are the
  # script's arguments.
  DP02_SCRIPT_START=$(dp02_now)
  DP02_SCRIPT_T0=$(dp02_epoch)
  DP02_STEP=$1
  shift
  local a
  for a in "$@"; do
    case "$a" in -h | --help) dp02_usage_exit ;; esac
  done
  dp02_load_config
}

# ---------------------------------------------------------------- check before acting

dp02_state() {
  # Ask the registry whether the step's work is there: py/repo_state.py CHECK ARGS...
  # Returns 0 (done) or 10 (work remains), its one-line summary in DP02_STATE_SUMMARY.
  # A repository the step must not touch stops the step with the checker's explanation.
  # In a dry run nothing is asked: the whole command is shown.
  DP02_STATE_SUMMARY=
  dp02_dry_run && return 10
  local status=0 err new=()
  # The step's first check only (a later one, e.g. after the Slurm tasks, asks the registry).
  if [[ -z "${DP02_STEP_CHECKED:-}" && "$1" != create ]]; then
    DP02_STEP_CHECKED=1
    if _dp02_repo_attempt; then new=(--new-repo); fi
  fi
  err=$(mktemp)
  DP02_STATE_SUMMARY=$(python3 "$DP02_HOME/py/repo_state.py" ${new[@]+"${new[@]}"} "$@" 2>"$err") || status=$?
  [[ -n "${DP02_STEP_LOG:-}" ]] && {
    printf '# registry check %s: %s (state %s)\n' "$1" "$DP02_STATE_SUMMARY" "$status"
    cat "$err"
  } >>"$DP02_STEP_LOG"
  local msg
  msg=$(sed 's/^repo_state: //' "$err")
  rm -f "$err"
  case "$status" in
    0 | 10) return "$status" ;;
    11) dp02_die 5 "$msg" ;;
    *) dp02_die 5 "the registry check '$1' of REPO=$REPO failed (exit $status): $(printf '%s' "$msg" | tail -n 3) See the step log for the whole message." ;;
  esac
}
