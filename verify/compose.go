package verify

import (
	"strconv"
	"strings"
)

// compose (Media File Merge Completed), the first event: its bounds, its
// required fields, and its rules, applied by rawFields.callback on the
// general path and written out by the fast path (fastpath.go).

// Field bounds. ZEGO documents replay_url's; the others bound input that
// would otherwise be limited only by the body size.
const (
	maxReplayURLBytes = 1024
	maxTaskIDBytes    = 256
	maxFileIDBytes    = 256
	maxNonceBytes     = 64
	maxEventBytes     = 64
	// Thirteen digits is a timestamp in milliseconds.
	millisecondDigits = 13
)

// composeRequired are compose's required fields, in the order they are
// checked.
var composeRequired = [...]int{fieldAppID, fieldEvent, fieldTaskID, fieldCode, fieldTimestamp, fieldNonce, fieldSignature}

// visible is compose's rule for task_id (1 to 256 printable ASCII
// characters without a space) and file_id (the same, when not empty).
// clean: the string is printable ASCII already (see rawFields.clean), so
// it only needs to hold no space; plainCompose writes that test out (a
// call would cost it 20 instructions of 8,650).
func visible(s string, maxLen int, clean bool) bool {
	if clean {
		return s != "" && len(s) <= maxLen && strings.IndexByte(s, ' ') < 0
	}
	return isVisibleASCII(s, maxLen)
}

// unixSeconds is a timestamp of digits decimal digits, value n, in
// seconds: at most 13 digits (ok is false past that), 13 being
// milliseconds, as is any length when milliseconds.
func unixSeconds(n uint64, digits int, milliseconds bool) (seconds int64, ok bool) {
	if digits > millisecondDigits {
		return 0, false
	}
	if milliseconds || digits == millisecondDigits {
		n /= 1000
	}
	return int64(n), true
}

// callback applies the field rules in the documented order: all required
// fields first, then each field's format.
func (f *rawFields) callback(c *Callback) error {
	for _, i := range composeRequired {
		if f.known[i].kind == kindAbsent {
			return &fieldError{ErrMissingField, fieldNames[i], "required"}
		}
	}
	// Each value is checked before it is stored, so a rejected callback
	// carries only valid fields for the log.
	if err := c.setIdentity(&lowerCaseFamily, nil, f.known[fieldEvent], f.known[fieldAppID]); err != nil {
		return err
	}
	taskID, err := f.text(fieldTaskID)
	if err != nil {
		return err
	}
	if !visible(taskID, maxTaskIDBytes, f.clean) {
		return invalid("task_id", "must be 1 to 256 printable ASCII characters")
	}
	c.TaskID = taskID
	if c.Code, err = f.integer(fieldCode); err != nil {
		return err
	}
	if err := c.setSigned(&lowerCaseFamily, f.known[fieldTimestamp], f.known[fieldNonce], f.known[fieldSignature]); err != nil {
		return err
	}
	replayURL, err := f.optionalText(fieldReplayURL)
	if err != nil {
		return err
	}
	if replayURL == "" && c.Code == 0 {
		return &fieldError{ErrMissingField, "replay_url", "required when code is 0"}
	}
	if replayURL != "" && !httpURL(replayURL, f.clean) {
		return invalid("replay_url", "must be an absolute http or https URL of at most 1024 bytes")
	}
	c.ReplayURL = replayURL
	var fileID string
	if f.known[fieldFileID].kind == kindInteger {
		fileID, err = f.digits(fieldFileID)
	} else {
		fileID, err = f.optionalText(fieldFileID)
	}
	if err != nil {
		return err
	}
	if fileID != "" && !visible(fileID, maxFileIDBytes, f.clean) {
		return invalid("file_id", "must be at most 256 printable ASCII characters")
	}
	c.FileID = fileID
	if c.Message, err = f.optionalText(fieldMessage); err != nil {
		return err
	}
	c.extra = f.extra
	c.clean = f.clean
	return nil
}

// text returns a field that must be a string.
func (f *rawFields) text(i int) (string, error) { return textOf(f.known[i], fieldNames[i]) }

// optionalText returns a string field, or "" when it is absent.
func (f *rawFields) optionalText(i int) (string, error) {
	if f.known[i].kind == kindAbsent {
		return "", nil
	}
	return f.text(i)
}

// digits returns a field that must be non-empty decimal digits, sent as a
// string or a JSON integer.
func (f *rawFields) digits(i int) (string, error) { return digitsOf(f.known[i], fieldNames[i]) }

// integer returns a field that must be a signed decimal integer.
func (f *rawFields) integer(i int) (int64, error) {
	s, err := textOrIntegerOf(f.known[i], fieldNames[i])
	if err != nil {
		return 0, err
	}
	if s != "" && s[0] == '+' {
		return 0, invalid(fieldNames[i], "must be an integer")
	}
	// What strconv.ParseInt does with up to 18 digits, at a fraction of the
	// cost: ZEGO's codes are short.
	if digits := strings.TrimPrefix(s, "-"); digits != "" && len(digits) <= 18 && isDigits(digits) {
		n, _ := parseDigits(digits, 1e18)
		if len(digits) < len(s) {
			return -int64(n), nil
		}
		return int64(n), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid(fieldNames[i], "must be a 64-bit integer")
	}
	return n, nil
}

// composeExample is the compose body the CLI has always built; its values
// are those of ZEGO's documented compose example where they are real.
var composeExample = []Field{
	{"replay_url", "https://vod.example.com/merged.mp4"}, {"task_id", "1400341231-EditMedia-0d8b6f0a5c457f5722e6b27796ce1f2ctt0"},
	{"file_id", "5285890813218549789"}, {"code", "0"}, {"message", "SUCCESS"},
}

const composeMeaning = "a Merge Media Files task finished"

const composeDoc = "https://www.zegocloud.com/docs/live-streaming-server/callback/cdn/merge-media-completed"
