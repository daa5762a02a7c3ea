package caddyzegocallback

// Checks of the Markdown documentation: every relative link leads to a
// file of the repository, every #anchor to a heading of its target, and
// the README stays short enough to read in ten minutes.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// readmeMaxLines bounds README.md; the rest belongs in docs/.
const readmeMaxLines = 350

var (
	// markdownLink is an inline link or image: [text](target) or
	// [text](target "title").
	markdownLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	codeSpan     = regexp.MustCompile("`+[^`]*`+")
	atxHeading   = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	fence        = regexp.MustCompile("^ {0,3}(```|~~~)")
)

// markdownFiles are the repository's *.md files, as slash-separated paths.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// proseLines are the lines of a Markdown text outside fenced code blocks,
// by line number (from 1).
func proseLines(text string) map[int]string {
	lines := map[int]string{}
	inFence := ""
	for i, line := range strings.Split(text, "\n") {
		if m := fence.FindStringSubmatch(line); m != nil {
			switch inFence {
			case "":
				inFence = m[1]
			case m[1]:
				inFence = ""
			}
			continue
		}
		if inFence == "" {
			lines[i+1] = line
		}
	}
	return lines
}

// headingSlug is the anchor GitHub gives a heading: lower case, markup
// and punctuation other than '-' and '_' dropped, spaces as '-'.
func headingSlug(heading string) string {
	heading = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchorsOf are the anchors of a Markdown text's headings; a repeated
// heading gets -1, -2, ... as on GitHub.
func anchorsOf(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(text) {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := headingSlug(m[2])
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// brokenLinks lists the relative links of the Markdown file name (with
// text) whose file or anchor does not exist; read reads a repository file.
func brokenLinks(name, text string, read func(string) (string, error)) []string {
	var broken []string
	for number, line := range proseLines(text) {
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			resolved := name
			if file != "" {
				resolved = filepath.ToSlash(filepath.Join(filepath.Dir(name), file))
			}
			where := fmt.Sprintf("%s:%d: %s", name, number, target)
			if strings.HasPrefix(resolved, "../") {
				broken = append(broken, where+": outside the repository")
				continue
			}
			content, err := read(resolved)
			if err != nil {
				broken = append(broken, where+": no such file "+resolved)
				continue
			}
			if anchor != "" && !anchorsOf(content)[anchor] {
				broken = append(broken, where+": no heading #"+anchor+" in "+resolved)
			}
		}
	}
	return broken
}

func readTarget(name string) (string, error) {
	info, err := os.Stat(name)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return "", nil
	}
	data, err := os.ReadFile(name)
	return string(data), err
}

// TestDocsLinksResolve: every relative link of every Markdown file leads
// to an existing file and, with #anchor, to a heading in it.
func TestDocsLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 2 {
		t.Fatalf("found only %v: not run from the repository's root?", files)
	}
	for _, name := range files {
		for _, problem := range brokenLinks(name, readRepoFile(t, name), readTarget) {
			t.Error(problem)
		}
	}
}

// TestDocsLinkCheckerFails: the checker finds what it is meant to find.
func TestDocsLinkCheckerFails(t *testing.T) {
	files := map[string]string{
		"README.md":    "# Top\n## Each callback once\n## A `code` heading, twice!\n## A `code` heading, twice!\n",
		"docs/a.md":    "# Rotating a secret\n",
		"docs/dir/x.y": "",
	}
	read := func(name string) (string, error) {
		if text, ok := files[name]; ok {
			return text, nil
		}
		return "", fs.ErrNotExist
	}
	text := strings.Join([]string{
		"[ok](../README.md#each-callback-once) [ok](a.md#rotating-a-secret) [ok](dir/x.y)",
		"[ok](../README.md#a-code-heading-twice-1) [ok](https://example.com/x#y) [ok](#rotating-a-secret)",
		"[missing file](b.md) [missing anchor](../README.md#never-lose-a-callback) [outside](../../x.md)",
		"`[in code](nowhere.md)`",
		"```",
		"[in a fence](nowhere.md)",
		"```",
		"[missing here](#top)",
	}, "\n")
	broken := brokenLinks("docs/a.md", text, read)
	want := []string{"b.md", "#never-lose-a-callback", "../../x.md", "#top"}
	if len(broken) != len(want) {
		t.Fatalf("found %d broken links, want %d (%v):\n%s", len(broken), len(want), want, strings.Join(broken, "\n"))
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(broken, "\n"), w) {
			t.Errorf("the broken link %s was not found:\n%s", w, strings.Join(broken, "\n"))
		}
	}
}

func TestDocsHeadingSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Quick start": "quick-start",
		"Upgrading from `zego_callback` followed by `reverse_proxy`": "upgrading-from-zego_callback-followed-by-reverse_proxy",
		"Verifying the edge (Standard Webhooks)":                     "verifying-the-edge-standard-webhooks",
		"`spool list`, `show`, `retry`, `drop`":                      "spool-list-show-retry-drop",
		"What ZEGO's docs leave unclear":                             "what-zegos-docs-leave-unclear",
		"2xx, 4xx + Zego-Refused":                                    "2xx-4xx--zego-refused",
	} {
		if got := headingSlug(heading); got != want {
			t.Errorf("headingSlug(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestDocsReadmeIsShort: a newcomer reads the README in ten minutes.
func TestDocsReadmeIsShort(t *testing.T) {
	lines := strings.Count(strings.TrimSuffix(readRepoFile(t, "README.md"), "\n"), "\n") + 1
	if lines > readmeMaxLines {
		t.Errorf("README.md has %d lines, at most %d: move the detail into docs/", lines, readmeMaxLines)
	}
}
