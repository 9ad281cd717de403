#!/usr/bin/env bats
# bin/lint-compat: nothing newer than GNU make 3.82 and bash 4.2 (the v23 image, CentOS 7).

load helpers

setup() {
  T=$BATS_TEST_TMPDIR
}

@test "lint-compat: the toolkit's Makefiles and scripts pass" {
  run -0 "$ROOT/bin/lint-compat"
  [[ "$output" == "lint: GNU make 3.82 constructs"* ]]
}

# shellcheck disable=SC2016 # the fixtures are literal make and bash text
@test "lint-compat: .SHELLSTATUS, \$(file), != and ::= are refused in a makefile" {
  printf 'X := $(shell true)\nifneq ($(.SHELLSTATUS),0)\nendif\n' >"$T/a.mk"
  printf '$(file >out,text)\n' >"$T/b.mk"
  printf 'Y != date\n' >"$T/c.mk"
  printf 'Z ::= 1\n' >"$T/d.mk"
  printf 'a b &: c\n\ttouch a b\n' >"$T/e.mk"
  for f in a b c d e; do
    run -1 "$ROOT/bin/lint-compat" "$T/$f.mk"
    [[ "$output" == *"$T/$f.mk:"*"GNU make 4."* ]]
  done
}

# shellcheck disable=SC2016 # the fixtures are literal make and bash text
@test "lint-compat: plain 3.82 makefile constructs pass" {
  printf 'X := $(shell true)\nY ?= 1\nZ += 2\nifneq ($(X),)\nendif\n# $(file) in a comment\na: b\n\t@echo $(abspath .)\n' >"$T/ok.mk"
  run -0 "$ROOT/bin/lint-compat" "$T/ok.mk"
}

# shellcheck disable=SC2016 # the fixtures are literal make and bash text
@test "lint-compat: bash newer than 4.2 is refused in a script" {
  printf '#!/usr/bin/env bash\ndeclare -n ref=x\n' >"$T/a"
  printf '#!/usr/bin/env bash\necho "${x@Q}"\n' >"$T/b"
  printf '#!/usr/bin/env bash\nwait -n\n' >"$T/c"
  printf '#!/usr/bin/env bash\necho "${arr[-1]}"\n' >"$T/d"
  printf '#!/usr/bin/env bash\nmapfile -t -d "" a <f\n' >"$T/e"
  for f in a b c d e; do
    run -1 "$ROOT/bin/lint-compat" "$T/$f"
    [[ "$output" == *"$T/$f:2: "*"bash 4."* ]]
  done
  printf '#!/usr/bin/env bash\nlocal -a list=()\nmapfile -t a <f\necho "${a[0]}" "${#a[@]}"\n' >"$T/ok"
  run -0 "$ROOT/bin/lint-compat" "$T/ok"
}
