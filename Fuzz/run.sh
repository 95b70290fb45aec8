#!/bin/sh
# Builds every libFuzzer target under Fuzz/targets/ and runs each one time-boxed over a copy
# of its committed seed corpus (Fuzz/corpus-work/TARGET, so what the fuzzer finds never
# grows the committed corpus). FUZZ_SECONDS per target, default 15. FUZZ_JOBS targets at a
# time, default one per processor (each fuzzer is one process on one core). Any crash,
# sanitizer report or leak fails the run; the input that caused it is kept in
# Fuzz/build/crashes/.
#   Fuzz/run.sh            build and run them all
#   Fuzz/run.sh --one T    run target T (already built), as the loop below does
set -eu
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-15}
# libFuzzer reports crashes itself; Swift's backtracer would only hold the crash up.
export SWIFT_BACKTRACE=enable=no

if [ "${1:-}" = "--one" ]; then
    t=${2:?usage: Fuzz/run.sh --one TARGET}
    work=corpus-work/$t
    crashes=build/crashes/$t
    rm -rf "$work" "build/$t.failed"
    mkdir -p "$work" "$crashes"
    [ -d "corpus/$t" ] && cp corpus/"$t"/* "$work"/
    log=build/$t.log
    if ./build/"$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -artifact_prefix="$crashes/" \
        -print_final_stats=1 "$work" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $t: no crash in ${seconds}s, ${runs:-?} inputs, corpus $(ls "$work" | wc -l) entries"
    else
        # One line here (targets run side by side); the log's tail is printed at the end.
        echo "fuzz: $t: FAILED"
        touch "build/$t.failed"
    fi
    exit 0
fi

targets=$(ls targets 2>/dev/null | sed -n 's/\.\(swift\|c\)$//p')
if [ -z "$targets" ]; then echo "fuzz: no targets under Fuzz/targets" >&2; exit 1; fi

for t in $targets; do ./build.sh "$t"; done

jobs=${FUZZ_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
printf '%s\n' $targets | xargs -n 1 -P "$jobs" sh ./run.sh --one

failed=""
for t in $targets; do
    [ -e "build/$t.failed" ] || continue
    tail -n 40 "build/$t.log"
    echo "fuzz: $t: FAILED (log: Fuzz/build/$t.log, input: Fuzz/build/crashes/$t/)"
    failed="$failed $t"
done
if [ -n "$failed" ]; then echo "fuzz: failed:$failed"; exit 1; fi
exit 0
