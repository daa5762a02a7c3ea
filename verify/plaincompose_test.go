package verify

import (
	"reflect"
	"testing"

	"github.com/zegoedge/caddy-zego-callback/verify/verifytest"
)

// TestPlainComposeAgrees: the fast path takes the plain compose vectors, and
// for every vector it takes, the general path gives the same callback.
func TestPlainComposeAgrees(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range verifytest.Load(t).Cases {
		var fast Callback
		if !parsePlainCompose(tc.Body, &fast) {
			if !reflect.DeepEqual(fast, Callback{}) {
				t.Errorf("%s: refused, but the callback is not zero: %+v", tc.Name, fast)
			}
			continue
		}
		taken[tc.Name] = true
		var f rawFields
		var general Callback
		if err := decodeBody(tc.Body, &f); err != nil {
			t.Fatalf("%s: the fast path takes it, the general path says %v", tc.Name, err)
		}
		if err := f.callback(&general); err != nil || !reflect.DeepEqual(fast, general) {
			t.Errorf("%s: the fast path gives %+v, the general path %+v (%v)", tc.Name, fast, general, err)
		}
	}
	for _, name := range []string{"tencent_success_json", "tencent_failure_60000", "forged_signature", "stale_timestamp", "app_not_allowed"} {
		if !taken[name] {
			t.Errorf("the fast path refuses %s", name)
		}
	}
}
