package verify

import (
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
	"time"
)

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

// Callback is a parsed callback with every field rule of its event applied.
// Its JSON form, written by AppendJSON, is what the upstream receives.
type Callback struct {
	Event string
	AppID uint32
	// TaskID is compose's and the mix events' task ID; "" for other events.
	TaskID string
	// Code is compose's result code: 0 success, 40000 invalid input, 60000
	// bad source file, 70000 internal error; 0 for other events.
	Code int64
	// Message, ReplayURL and FileID are compose's; see Field for the fields
	// of other events.
	Message   string
	ReplayURL string
	// FileID holds the exact digits ZEGO sent (Tencent file IDs exceed 2^53).
	FileID string
	// Timestamp is ZEGO's send time in unix seconds.
	Timestamp int64
	Nonce     string

	// The signed strings as received, kept for the signature check and never
	// written out.
	rawTimestamp string
	signature    string
	extra        []extraField
	// secretIndex is set by a Verifier; see SecretIndex.
	secretIndex int
	// clean: every string came from a plain body and needs no escaping in
	// JSON (see rawFields.clean); AppendJSON then copies them as they are.
	clean bool
	// event is set for events other than compose. A pointer keeps the
	// Callback, which is copied on compose's hot path, as small as before.
	event *eventFields
}

// eventFields are the fields of an event other than compose.
type eventFields struct {
	product  *product
	spec     *eventSpec
	values   []fieldValue
	roomID   string
	streamID string
}

// RoomID is the room an event is about (room_id, else channel_id); "" for
// compose and record.
func (c *Callback) RoomID() string {
	if c.event == nil {
		return ""
	}
	return c.event.roomID
}

// StreamID is the stream an event is about (stream_id, else stream_alias;
// mix_stream_alias for the mix events); "" for compose and the room events.
func (c *Callback) StreamID() string {
	if c.event == nil {
		return ""
	}
	return c.event.streamID
}

// SecretIndex tells which secret verified the callback: its position in the
// app's own secrets (Options.AppSecrets) when the app has an entry, else in
// Options.Secrets. It is meaningful only after Verifier.Verify succeeded;
// callers keep records of different secrets apart with it.
func (c *Callback) SecretIndex() int { return c.secretIndex }

// Success reports whether the merge task succeeded (code 0).
func (c *Callback) Success() bool { return c.Code == 0 }

// SentAt is Timestamp as a UTC time.
func (c *Callback) SentAt() time.Time { return time.Unix(c.Timestamp, 0).UTC() }

// IdempotencyID identifies one occurrence of an event, the same for ZEGO's
// retries of it and different for another occurrence: 128 bits of SHA-256
// over the app, the event and the event's key fields (compose: task_id;
// the others: see the tables in events.go), joined by NUL bytes. In hex it
// is the Idempotency-Key the upstream receives.
func (c *Callback) IdempotencyID() [16]byte {
	if c.event != nil {
		return c.eventIdempotencyID()
	}
	var buf [300]byte
	b := strconv.AppendUint(buf[:0], uint64(c.AppID), 10)
	b = append(b, 0)
	b = append(b, c.Event...)
	b = append(b, 0)
	b = append(b, c.TaskID...)
	return shortHash(b)
}

// SignatureID identifies the signed string: 128 bits of SHA-256 over the
// signature in lower case. It is keyed on the signature alone because ZEGO
// joins the sorted secret, timestamp and nonce with no separator: the same
// signature can be presented with digits moved between the timestamp and
// the nonce, and must still count as the same signature.
func (c *Callback) SignatureID() [16]byte {
	var buf [64]byte
	b := buf[:0]
	for i := 0; i < len(c.signature); i++ {
		ch := c.signature[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	return shortHash(b)
}

// shortHash is 128 bits of SHA-256: plenty to tell keys apart.
func shortHash(b []byte) [16]byte {
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// Parse decodes an RTC callback body in any of the shapes ZEGO sends and
// applies the field rules: required fields, then field formats; another
// product's callback is ErrWrongProduct. It checks no signature, app,
// event or time; a Verifier does. On error, the fields decoded so far are
// returned for logging.
func Parse(body []byte) (Callback, error) {
	var c Callback
	err := parse(body, rtcProduct, true, &c)
	if err == errForeign {
		err = ErrWrongProduct
	}
	return c, err
}

// parse is Parse for product p into c, which must be zero: Verify's result
// is filled in place, not copied through two returns. A body that is not
// one of p's events but parses as another product's is returned as that
// product's callback with errForeign, for the Verifier to refuse as
// ErrWrongProduct once its signature is checked (ZEGO signs every product
// the same way).
//
// fastPaths enables the shortcuts for the bodies ZEGO sends, which must
// give the same callback, document and error as the general path they
// skip (TestFastPathsAgree and FuzzParse compare the two): parsePlainCompose
// for a compose body, and in the decoder a plain body (printable ASCII, no
// backslash: its strings need no unescaping, and are clean, so the
// document copies them), read flat (decodeFlat: string members only,
// nothing between the tokens). Only tests turn them off.
func parse(body []byte, p *product, fastPaths bool, c *Callback) error {
	s := string(body) // the callback's strings are pieces of this one copy
	if fastPaths && p == rtcProduct && parsePlainCompose(s, c) {
		return nil
	}
	return parseGeneral(s, p, fastPaths, c)
}

// parseGeneral is parse past the compose fast path (Verify calls it after
// its own copy of that path).
func parseGeneral(s string, p *product, fastPaths bool, c *Callback) error {
	err := parseAs(s, p, fastPaths, c)
	if err == nil && !c.unknownEvent() || errors.Is(err, ErrMalformedBody) || errors.Is(err, ErrDuplicateField) {
		return err
	}
	for _, other := range products {
		var theirs Callback
		if other != p && parseAs(s, other, fastPaths, &theirs) == nil && !theirs.unknownEvent() {
			*c = theirs
			return errForeign
		}
	}
	return err
}

// parseAs parses s as one of p's callbacks. An event p does not know gets
// only the envelope's rules (compose's, for rtc, as it always has): a
// Verifier refuses it as not allowed once the signature has been checked.
func parseAs(s string, p *product, fastPaths bool, c *Callback) error {
	var f rawFields
	if err := decodeBody(s, fastPaths, &f); err != nil {
		return err
	}
	for _, env := range productEnvelopes[p] {
		if spec := p.specFor(env, f.member(env.Event)); spec != nil {
			return f.eventCallback(p, spec, c)
		}
	}
	if p == rtcProduct {
		return f.callback(c)
	}
	return f.eventCallback(p, &unknownEventSpec, c)
}

// member is the value of the body's member name, known or not.
func (f *rawFields) member(name string) value {
	if i := fieldIndex(name); i >= 0 {
		return f.known[i]
	}
	if k, ok := f.extraIndex()(name); ok {
		return f.extra[k].value()
	}
	return value{}
}

// errForeign is parse's answer for another product's callback.
var errForeign = errors.New("another product's callback")

// unknownEventSpec stands for an event the product does not have.
var unknownEventSpec = eventSpec{name: "unknown"}

// unknownEvent reports whether c is an event its product does not have.
func (c *Callback) unknownEvent() bool {
	if c.event == nil {
		return c.Event != DefaultEvent
	}
	return c.event.spec == &unknownEventSpec
}

// Product is the product whose callback c is.
func (c *Callback) Product() string { return c.product().name }

func (c *Callback) product() *product {
	if c.event == nil {
		return rtcProduct
	}
	return c.event.product
}

// Synchronous reports whether ZEGO waits for the backend's answer to c and
// acts on it (ZIM's before_send_msg): the answer must reach ZEGO as the
// backend wrote it.
func (c *Callback) Synchronous() bool { return c.event != nil && c.event.spec.synchronous }

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

// textOf returns a value that must be a string; name is its field's.
func textOf(v value, name string) (string, error) {
	if v.kind == kindString {
		return v.text, nil
	}
	return "", invalid(name, "must be a string")
}

// textOrIntegerOf returns a value that may be a string or a JSON integer,
// as the literal text received.
func textOrIntegerOf(v value, name string) (string, error) {
	if v.kind == kindString || v.kind == kindInteger {
		return v.text, nil
	}
	return "", invalid(name, "must be a string or an integer")
}

// digitsOf returns a value that must be non-empty decimal digits, sent as
// a string or a JSON integer.
func digitsOf(v value, name string) (string, error) {
	s, err := textOrIntegerOf(v, name)
	if err != nil {
		return "", err
	}
	if s == "" || !isDigits(s) {
		return "", invalid(name, "must be decimal digits")
	}
	return s, nil
}

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

// isToken reports whether s is 1 to maxLen letters, digits and underscores,
// and also hyphens when hyphen is set.
func isToken(s string, maxLen int, hyphen bool) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || hyphen && c == '-') {
			return false
		}
	}
	return true
}

// isVisibleASCII reports whether s is 1 to maxLen characters from '!' to
// '~'. Such values are also safe as HTTP header values.
func isVisibleASCII(s string, maxLen int) bool {
	return s != "" && len(s) <= maxLen && visibleASCII(s)
}

// isHTTPURL reports whether s is an absolute http or https URL with a host,
// of at most 1024 bytes and with no control characters. It is a tighter,
// allocation-free form of what url.Parse accepts (FuzzParse holds it to
// that).
func isHTTPURL(s string) bool { return httpURL(s, false) }

// httpURL is isHTTPURL; clean says s is known to be printable ASCII.
func httpURL(s string, clean bool) bool {
	if len(s) > maxReplayURLBytes || !clean && !controlFree(s) {
		return false
	}
	if len(s) < len("http://x") {
		return false
	}
	// The scheme in either case, a word at a time: s holds no control
	// character, so setting 0x20 in each byte makes 'h' only of 'H' and
	// 'h', ':' only of ':' and '/' only of '/'.
	var rest string
	switch scheme := load64(s) | 0x20*lowBits; {
	case scheme == httpsPrefix:
		rest = s[8:]
	case scheme&0x00FFFFFFFFFFFFFF == httpPrefix:
		rest = s[7:]
	default:
		return false
	}
	// The authority runs to the first '/', '?' or '#', none of which is an
	// authority byte. Usually it is a bare host name: no byte of it is
	// special ('@', ':', '[' or ']') and it only has to be there.
	authorityEnd, classes := 0, uint8(0)
	for authorityEnd < len(rest) && authorityClass[rest[authorityEnd]] != 0 {
		classes |= authorityClass[rest[authorityEnd]]
		authorityEnd++
	}
	if authorityEnd < len(rest) && rest[authorityEnd] != '/' && rest[authorityEnd] != '?' && rest[authorityEnd] != '#' {
		return false
	}
	authority := rest[:authorityEnd]
	if authority == "" || classes&authoritySpecial != 0 && !validAuthority(authority) {
		return false
	}
	// As url.Parse does, require valid escapes in the path and fragment;
	// the query is left as sent. Without a '%' there is nothing to check.
	// (IndexByte, not strings.Cut: a third of the cost.)
	path, fragment := rest[authorityEnd:], ""
	if strings.IndexByte(path, '%') < 0 {
		return true
	}
	if hash := strings.IndexByte(path, '#'); hash >= 0 {
		path, fragment = path[:hash], path[hash+1:]
	}
	if question := strings.IndexByte(path, '?'); question >= 0 {
		path = path[:question]
	}
	return validEscapes(path) && validEscapes(fragment)
}

// validAuthority checks the host of an authority holding user info, a port
// or an IPv6 literal.
func validAuthority(authority string) bool {
	// The host follows the last '@'.
	host := authority[strings.LastIndexByte(authority, '@')+1:]
	if strings.HasPrefix(host, "[") { // an IPv6 literal
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		host, port := host[1:end], host[end+1:]
		return host != "" && !hasBracket(host) && (port == "" || port[0] == ':' && isDigits(port[1:]))
	}
	name, port := host, ""
	if colon := strings.IndexByte(host, ':'); colon >= 0 {
		name, port = host[:colon], host[colon+1:]
	}
	return name != "" && !hasBracket(name) && isDigits(port)
}

// hasBracket reports whether s holds '[' or ']' (strings.ContainsAny would
// build its set on every call).
func hasBracket(s string) bool {
	return strings.IndexByte(s, '[') >= 0 || strings.IndexByte(s, ']') >= 0
}

// httpsPrefix and httpPrefix are "https://" and "http://" as load64 reads
// them.
var (
	httpsPrefix = load64("https://")
	httpPrefix  = load64("http://\x00")
)

// validEscapes reports whether every '%' in s starts a %XX escape.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
	return true
}

// parseDigits is the value of s, which isDigits accepted; ok is false when
// it exceeds limit, which must be below math.MaxUint64/10 so that no step
// overflows.
func parseDigits(s string, limit uint64) (n uint64, ok bool) {
	i := 0
	if len(s) >= 8 { // the first eight digits at once
		if n, i = eightDigits(load64(s)), 8; n > limit {
			return 0, false
		}
	}
	for ; i < len(s); i++ {
		if n = n*10 + uint64(s[i]-'0'); n > limit {
			return 0, false
		}
	}
	return n, true
}

// eightDigits is the value of eight ASCII digits loaded little-endian (the
// first digit, the most significant, in the lowest byte): pairs, then
// fours, then the eight, each step a multiply (as in simdjson).
func eightDigits(x uint64) uint64 {
	x -= '0' * lowBits
	x = x * (10<<8 + 1) >> 8
	x = (x & 0x00FF00FF00FF00FF) * (100<<16 + 1) >> 16
	return (x & 0x0000FFFF0000FFFF) * (10000<<32 + 1) >> 32
}

// isDigits reports whether every byte of s is a decimal digit, a word a
// step: below '0' borrows into the high bit, above '9' carries into it
// when 0x46 is added (and above 0xB9 is caught by the borrow).
func isDigits(s string) bool {
	for ; len(s) >= 8; s = s[8:] {
		x := load64(s)
		if ((x-'0'*lowBits)|(x+0x46*lowBits))&highBits != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// authorityClass sorts the bytes allowed in a URL's user info, host and
// port (no percent-escapes: CDN hosts need none): 0 for the others,
// authoritySpecial for those that separate its parts.
var authorityClass = func() (t [256]uint8) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") {
		t[c] = authorityOrdinary
	}
	for _, c := range []byte("@:[]") {
		t[c] = authoritySpecial
	}
	return t
}()

const (
	authorityOrdinary = 1
	authoritySpecial  = 2
)
