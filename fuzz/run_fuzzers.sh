#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (built with -DOURO_BUILD_FUZZ=ON) for SECONDS
# (the unpickler's in two halves, the second with -len_control=0: see below),
# starting from a seed corpus made here: pickles of every protocol written by python3 when
# it is installed, plus a few hand-made ones. Corpora grow in BUILD_DIR/fuzz/corpus/<name>
# and are kept between runs; a crash leaves crash-* files in BUILD_DIR/fuzz/artifacts and
# fails the script.
#
#   fuzz/run_fuzzers.sh build/fuzz 30
set -euo pipefail

build_dir=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run_fuzzers.sh BUILD_DIR SECONDS}
work="$build_dir/fuzz"
seeds="$work/seeds"
artifacts="$work/artifacts"
mkdir -p "$seeds" "$artifacts"

# Hand-made seeds: an int, a protocol-0 list, a cycle, an unknown global, a truncated frame.
printf 'I42\n.' > "$seeds/int0"
printf '(lp0\nI1\naI2\na.' > "$seeds/list0"
printf '\x80\x04]\x94h\x00a.' > "$seeds/cycle4"
printf 'cos\nsystem\n(S"true"\ntR.' > "$seeds/global0"
printf '\x80\x05\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.' > "$seeds/frame5"

if command -v python3 > /dev/null; then
  python3 - "$seeds" <<'PY'
import collections, pickle, sys
class Nested:
    def __init__(self): self.message = 'I am nested'
class ComplexDataObject:
    def __init__(self):
        self.number = 1024
        self.text = 'Sample Text'
        self.items = [1, 2, 3, {'nested': 'dict'}, ('tuple', 42)]
        self.nested = Nested()
values = {
    'scalars': [None, True, False, 0, -1, 2**70, -2**64, 1.5, 'h\xe9llo \u20ac \U0001f600', b'\x00\xff'],
    'containers': ({1, 2}, frozenset({3}), {'a': [1, (2,)]}, bytearray(b'xy'), ()),
    'shared': (lambda l: [l, l, {'k': l}])([1, 2]),
    'ordered': collections.OrderedDict(a=1),
    'object': ComplexDataObject(),
}
recursive = []
recursive.append(recursive)
values['recursive'] = recursive
for name, value in values.items():
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with open(f'{sys.argv[1]}/{name}{protocol}', 'wb') as f:
            pickle.dump(value, f, protocol)
PY
fi

status=0
# Each run: target, seconds, extra flags. The unpickler's time is split in two: the usual
# run, whose inputs grow slowly from the seeds, and one with -len_control=0 and long inputs
# from the start, which reaches the resource paths (huge stacks and memos, long arguments,
# the heap limit) that short inputs never do. Total time stays 2 x SECONDS.
half=$(( (seconds + 1) / 2 ))
runs=(
  "unpickler $half -max_len=65536"
  "unpickler $(( seconds - half > 0 ? seconds - half : 1 )) -len_control=0 -max_len=1048576"
  "dis $seconds -max_len=65536"
)
for run in "${runs[@]}"; do
  read -r name time flags <<< "$run"
  corpus="$work/corpus/$name"
  mkdir -p "$corpus"
  echo "== ${name}_fuzzer for ${time}s ($flags)"
  # shellcheck disable=SC2086  # $flags holds several options
  if ! "$build_dir/fuzz/${name}_fuzzer" -max_total_time="$time" $flags -timeout=25 \
       -rss_limit_mb=2048 -artifact_prefix="$artifacts/${name}-" -print_final_stats=1 \
       "$corpus" "$seeds"; then
    echo "${name}_fuzzer found a problem: see $artifacts" >&2
    status=1
  fi
done
exit $status
