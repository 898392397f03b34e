#!/usr/bin/env bash
# Draws the latency chart of bench/run.sh (a PNG, with gnuplot) from the quantiles it keeps, so
# that the chart can be redrawn without running the benchmark again. bench/run.sh calls it.
#
# Usage: bench/plot-latency.sh [DAT] [PNG]
#   DAT  default bench/results/latency.dat; PNG default: DAT with .png instead of .dat
#
# DAT is tab-separated: '#' comment lines (a line '# run: ...' gives the chart's subtitle), then
# a header line 'percentile<TAB>series<TAB>series...', then one line per percentile with the
# latency in ms of each series. Both axes are logarithmic: the percentile as 1/(1 - p), so that
# the tail gets the room, and the latency, so that the phases of a few ms and the 95/5 mix's
# hundreds of ms can be read on one chart.
source "$(dirname "$0")/lib.sh"

DAT="${1:-$BENCH_DIR/results/latency.dat}"
PNG="${2:-${DAT%.dat}.png}"
[ -r "$DAT" ] || die "no data file $DAT"
bench_need gnuplot gnuplot-nox

run="$(sed -n 's/^# run: *//p' "$DAT" | head -n 1)"
header="$(grep -v '^#' "$DAT" | head -n 1)"
IFS=$'\t' read -r -a names <<<"$header"
[ "${#names[@]}" -ge 2 ] || die "$DAT: no header line 'percentile<TAB>series...'"
# The x axis: a tic at each percentile of the file (no other: the lines between two of them
# are not data), and a little room either side.
read -r xmin xmax xtics < <(grep -v '^#' "$DAT" | tail -n +2 | awk -F'\t' '
	NF > 1 { x = 100 / (100 - $1); if (min == "" || x < min) min = x; if (x > max) max = x
		tics = tics (tics == "" ? "" : ", ") "\"" $1 "\" " x }
	END { printf "%g %g (%s)\n", min / 1.4, max * 1.4, tics }')

# One colour and point type per series, fixed by its name so that a phase keeps its colour
# when another is missing from a run.
style() {
	case "$1" in
		ceiling) echo "lc rgb '#000000' pt 1" ;;
		"Redis hit") echo "lc rgb '#0072b2' pt 5" ;;
		"near-cache hit") echo "lc rgb '#56b4e9' pt 7" ;;
		"database only") echo "lc rgb '#e69f00' pt 9" ;;
		"Redis down") echo "lc rgb '#d55e00' pt 11" ;;
		"95/5 mix") echo "lc rgb '#cc79a7' pt 13" ;;
		"list page") echo "lc rgb '#009e73' pt 3" ;;
		*) echo "pt 2" ;;
	esac
}
plots=""
for i in $(seq 2 "${#names[@]}"); do
	name="${names[$((i - 1))]}"
	plots="$plots${plots:+, }'$DAT' skip 1 using (100 / (100 - \$1)):$i with linespoints lw 2 ps 1.3 $(style "$name") title '${name//\'/}' noenhanced"
done

GP="$(mktemp "${TMPDIR:-/tmp}/plot-latency.XXXXXX")"
trap 'rm -f "$GP"' EXIT
cat >"$GP" <<GP
set terminal pngcairo size 960,540 font 'sans,11'
set output '$PNG'
set datafile separator '\t'
set datafile commentschars '#'
set title "Latency by percentile, bench/run.sh\n${run//\"/}" noenhanced
set logscale x
set logscale y
set xrange [$xmin:$xmax]
set xtics $xtics
set format y '%g'
set xlabel 'percentile'
set ylabel 'latency, ms (log scale)'
set key outside right top Left reverse width 1 title 'phase'
set grid xtics ytics
set mytics 10
plot $plots
GP
gnuplot "$GP"
log "chart: $PNG (from $DAT)"
