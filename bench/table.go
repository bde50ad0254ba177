package bench

import (
	"io"
	"text/tabwriter"
)

// tableWriter aligns rows of cells in columns.
type tableWriter struct{ tw *tabwriter.Writer }

func newTableWriter(w io.Writer) *tableWriter {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
}

func (t *tableWriter) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		io.WriteString(t.tw, c)
	}
	io.WriteString(t.tw, "\t\n")
}

func (t *tableWriter) flush() error { return t.tw.Flush() }
