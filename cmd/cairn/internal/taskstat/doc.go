// Package taskstat turns the agents' per-container usage samples (the
// `statistics` objects of /monitor/statistics and /monitor/history) into
// what `cairn top` and `cairn stats` show: per-task rows of rates and
// gauges, sorted and filtered, rendered as a table or JSON, and per-metric
// series with a terminal sparkline.
//
// Everything here is pure: no I/O beyond the io.Writer a renderer is given,
// no clock (sample times come from the samples' `timestamp`, or from the
// caller), no goroutines. Values are safe to share once built; nothing is
// mutated after it is returned.
//
// A statistics key an agent does not report is absent, not zero: a metric
// built from it has no value (JSON null, "-" in a table), so an agent
// without the eBPF meters never shows a fake 0 run-queue delay.
package taskstat
