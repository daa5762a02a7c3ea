package verify

import "strings"

// The formats of single values that several rules share: strings,
// integers and digits as the JSON scanner or a form gives them, tokens
// (event names, nonces), printable ASCII, and http(s) URLs.

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
