package verify

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateReference = flag.Bool("update-reference", false, "rewrite docs/events-reference.md from the tables")

// referencePath is the generated events reference, from this package's
// directory.
const referencePath = "../docs/events-reference.md"

// TestEventsReference holds docs/events-reference.md to the tables it is
// generated from, so the docs cannot drift from the code. After changing a
// table: go test ./verify -run TestEventsReference -update-reference
func TestEventsReference(t *testing.T) {
	got := eventsReference()
	if *updateReference {
		if err := os.WriteFile(referencePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Fatalf("%s is not what the tables generate; run go test ./verify -run TestEventsReference -update-reference", referencePath)
	}
}

// eventsReference writes every product's envelope and events, with each
// field's rule, the dedupe key and ZEGO's page, as Markdown.
func eventsReference() string {
	var b strings.Builder
	b.WriteString("# Events reference\n\n")
	b.WriteString("Generated from the rule tables in `verify/` by `go test ./verify -run TestEventsReference -update-reference`;\n")
	b.WriteString("a test fails when this file and the tables differ. How the rules read and write values is in\n")
	b.WriteString("[events.md](events.md). A field marked *required* refuses the callback (`missing_field`) when absent;\n")
	b.WriteString("every other field is forwarded always present (see events.md for the absent values). The dedupe key is\n")
	b.WriteString("the app, the event, then the fields listed.\n")
	for _, p := range products {
		fmt.Fprintf(&b, "\n## %s\n\nEnvelope: %s. Callbacks: %s\n\n", p.name, describeEnvelope(&p.envelope), p.doc)
		b.WriteString("| event | what it means | fields | dedupe key | ZEGO's page |\n|---|---|---|---|---|\n")
		if p == rtcProduct {
			fmt.Fprintf(&b, "| `compose` | %s | `task_id` *required*: id, `success`: bool, `code` *required*: integer, `message`: text, `replay_url`: url (*required* when code is 0), `file_id`: id digits | `task_id` | %s |\n", composeMeaning, composeDoc)
		}
		for _, spec := range p.events {
			meaning := spec.meaning
			if spec.synchronous {
				meaning += " — **synchronous**: the backend's answer goes to ZEGO as written"
			}
			if spec.envelope != nil {
				meaning += " — envelope: " + describeEnvelope(spec.envelope)
			}
			if p.envelopeOf(spec).Numeric {
				meaning = fmt.Sprintf("(%s %d) %s", p.envelopeOf(spec).Event, spec.code, meaning)
			}
			var fields []string
			for i := range spec.fields {
				fields = append(fields, describeRule(&spec.fields[i]))
			}
			keys := keyNames(spec.fields, "")
			if spec.keyTimestamp {
				keys = append(keys, "the timestamp as received")
			}
			if len(keys) == 0 {
				keys = []string{"(the event alone)"}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", spec.name, meaning, strings.Join(fields, ", "), strings.Join(keys, ", "), spec.doc)
		}
	}
	return b.String()
}

// describeEnvelope says how an envelope spells its members and its
// timestamp's unit.
func describeEnvelope(e *Envelope) string {
	unit := "seconds, or milliseconds when 13 digits"
	if e.Milliseconds {
		unit = "milliseconds"
	}
	event := "event `" + e.Event + "`"
	if e.Numeric {
		event = "event number `" + e.Event + "`"
	}
	return fmt.Sprintf("app `%s`, %s, timestamp `%s` (%s), nonce `%s`, signature `%s`", e.AppID, event, e.Timestamp, unit, e.Nonce, e.Signature)
}

// ruleWords names each rule kind as the reference shows it.
var ruleWords = map[ruleKind]string{
	ruleText: "text", ruleID: "id", ruleURL: "url", ruleUint: "number", ruleBigID: "id digits",
	ruleEnum: "number + `_name`", ruleStrings: "[string]", ruleJSONText: "JSON text", ruleInt: "integer",
	ruleNumber: "number", ruleObject: "object", ruleObjects: "[object]",
}

func describeRule(r *fieldRule) string {
	s := "`" + r.name + "`"
	if r.required {
		s += " *required*"
	}
	s += ": " + ruleWords[r.kind]
	if len(r.members) > 0 {
		var members []string
		for i := range r.members {
			members = append(members, describeRule(&r.members[i]))
		}
		s += " {" + strings.Join(members, ", ") + "}"
	}
	return s
}

// keyNames lists the dedupe key's fields, a nested one as Object.Member.
func keyNames(rules []fieldRule, prefix string) []string {
	var names []string
	for i := range rules {
		switch r := &rules[i]; {
		case r.kind == ruleObject:
			names = append(names, keyNames(r.members, prefix+r.name+".")...)
		case r.orTimestamp:
			names = append(names, "`"+prefix+r.name+"` (absent: the timestamp as received)")
		case r.key:
			names = append(names, "`"+prefix+r.name+"`")
		}
	}
	return names
}
