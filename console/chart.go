package console

import (
	"fmt"

	"github.com/checkoutd/checkoutd/inventory"
)

// chart is a bar chart of hold outcomes, drawn as SVG by the template from
// the coordinates worked out here: no script draws it.
type chart struct {
	ID      string
	Caption string
	Width   int
	Height  int
	Bars    []bar
	// Max is the tallest bar's count, the scale's top.
	Max int64
	// Totals over the whole window, and the rates derived from them.
	Committed, Expired, Released, Placed int64
	CommitRate, ExpiryRate               float64
	// HasClosed says any hold closed in the window: without, the rates
	// mean nothing.
	HasClosed bool
	// Labels are a few bucket starts along the x axis, at LabelY; AxisY is
	// the bars' base line.
	Labels        []axisLabel
	LabelY, AxisY int
	Rows          []inventory.HoldOutcomes
}

// bar is one bucket: a stack of committed, expired and released holds.
type bar struct {
	X, W     int
	Segments []segment
	Title    string
}

type segment struct {
	Y, H  int
	Class string
}

type axisLabel struct {
	X    int
	Text string
}

const (
	chartWidth  = 480
	chartHeight = 160
	chartTop    = 10
	chartBottom = 20 // room for the axis labels
)

// newChart lays out outcomes as bars; labelEvery is how many buckets apart
// the axis labels are.
func newChart(id, caption string, outcomes []inventory.HoldOutcomes, labelEvery int, labelFormat string) chart {
	ch := chart{ID: id, Caption: caption, Width: chartWidth, Height: chartHeight, Rows: outcomes,
		AxisY: chartHeight - chartBottom, LabelY: chartHeight - 5}
	for _, o := range outcomes {
		ch.Max = max(ch.Max, o.Closed())
		ch.Committed += o.Committed
		ch.Expired += o.Expired
		ch.Released += o.Released
		ch.Placed += o.Placed
	}
	if closed := ch.Committed + ch.Expired + ch.Released; closed > 0 {
		ch.HasClosed = true
		ch.CommitRate = float64(ch.Committed) / float64(closed)
		ch.ExpiryRate = float64(ch.Expired) / float64(closed)
	}
	if len(outcomes) == 0 {
		return ch
	}
	plot := chartHeight - chartTop - chartBottom
	slot := chartWidth / len(outcomes)
	for i, o := range outcomes {
		b := bar{X: i*slot + 1, W: max(slot-2, 1), Title: fmt.Sprintf("%s: %d committed, %d expired, %d released",
			o.Start.Format(labelFormat), o.Committed, o.Expired, o.Released)}
		y := chartTop + plot
		for _, s := range []struct {
			n     int64
			class string
		}{{o.Committed, "committed"}, {o.Expired, "expired"}, {o.Released, "released"}} {
			if s.n == 0 || ch.Max == 0 {
				continue
			}
			h := max(int(int64(plot)*s.n/ch.Max), 1)
			y -= h
			b.Segments = append(b.Segments, segment{Y: y, H: h, Class: s.class})
		}
		ch.Bars = append(ch.Bars, b)
		if i%labelEvery == 0 {
			ch.Labels = append(ch.Labels, axisLabel{X: i * slot, Text: o.Start.Format(labelFormat)})
		}
	}
	return ch
}
