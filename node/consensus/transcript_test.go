package consensus

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Transcript tests (etcd raft's interaction tests, in miniature): each file
// under testdata/transcripts is a sequence of blocks
//
//	command arg key=value ...
//	----
//	expected output, up to a blank line
//
// run against one cluster of the test harness. The handlers are in
// transcript_handlers_test.go. After a deliberate change of behaviour,
// regenerate the files with
//
//	go test -run '^TestTranscripts$' ./node/consensus -rewrite
//
// and read the diff before committing it.

var rewriteTranscripts = flag.Bool("rewrite", false, "rewrite the expected output of testdata/transcripts")

type transcriptBlock struct {
	line     int
	command  string
	expected string
}

func parseTranscript(path string) ([]transcriptBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []transcriptBlock
	sc := bufio.NewScanner(f)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b := transcriptBlock{line: lineNo, command: line}
		if !sc.Scan() {
			return nil, fmt.Errorf("%s:%d: command without ----", path, lineNo)
		}
		lineNo++
		if sc.Text() != "----" {
			return nil, fmt.Errorf("%s:%d: want ----, got %q", path, lineNo, sc.Text())
		}
		var out []string
		for sc.Scan() {
			lineNo++
			if sc.Text() == "" {
				break
			}
			out = append(out, sc.Text())
		}
		b.expected = strings.Join(out, "\n")
		blocks = append(blocks, b)
	}
	return blocks, sc.Err()
}

func formatTranscript(blocks []transcriptBlock, outputs []string) string {
	var sb strings.Builder
	for i, b := range blocks {
		if i > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(b.command + "\n----\n")
		if outputs[i] != "" {
			sb.WriteString(outputs[i] + "\n")
		}
	}
	return sb.String()
}

func TestTranscripts(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts found (%v)", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			blocks, err := parseTranscript(path)
			if err != nil {
				t.Fatal(err)
			}
			env := &transcriptEnv{t: t}
			outputs := make([]string, len(blocks))
			for i, b := range blocks {
				out, err := env.run(b.command)
				if err != nil {
					t.Fatalf("%s:%d: %s: %v", path, b.line, b.command, err)
				}
				outputs[i] = strings.TrimRight(out, "\n")
				if !*rewriteTranscripts && outputs[i] != b.expected {
					t.Errorf("%s:%d: %s\n--- got\n%s\n--- want\n%s", path, b.line, b.command, outputs[i], b.expected)
				}
			}
			if *rewriteTranscripts {
				if err := os.WriteFile(path, []byte(formatTranscript(blocks, outputs)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
