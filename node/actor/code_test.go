package actor

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/thinkey/thinkey/node/types"
)

// bytesLit renders an address as a Starlark bytes literal.
func bytesLit(a types.Address) string {
	var b strings.Builder
	b.WriteString(`b"`)
	for _, c := range a {
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	return b.String() + `"`
}

// counter is a program that counts its calls in storage, pays what it is
// sent on to a fixed address, and has methods that fail in various ways.
func counterProgram(payee types.Address) string {
	return `
def bump():
    n = get("count")
    n = 0 if n == None else int(str(n))
    put("count", str(n + 1))
    put(b"last", sender)

def forward():
    send(` + bytesLit(payee) + `, "add", value)

def forward_all():
    send(` + bytesLit(payee) + `, "add", balance())

def overspend():
    put("spent", "yes")
    send(` + bytesLit(payee) + `, "add", balance() + 1)

def spin():
    for i in range(1000000000):
        pass

def explode():
    put("x", "y")
    fail("nope")

def many():
    for i in range(65):
        send(self, "add", 0)

def clear():
    put("count", "")

def _private():
    pass

def noisy():
    print("this goes nowhere")

def ordered():
    d = {}
    for k in ["z", "a", "m"]:
        d[k] = len(d)
    s = set(["q", "b"])
    put("order", ",".join(d.keys() + list(s)))

not_a_function = 3
`
}

func TestCodeMethods(t *testing.T) {
	payee := types.Address{0xee}
	caller := types.Address{0xcc}
	self := types.Address{0xaa}
	acct := Account{Address: self, Balance: 100, Code: []byte(counterProgram(payee))}
	call := func(t *testing.T, a Account, method string, value uint64) Outcome {
		t.Helper()
		m := relay(caller, self, method, value, nil)
		out, err := Process(a, &m, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("storage", func(t *testing.T) {
		out := call(t, acct, "bump", 0)
		out = call(t, out.Account, "bump", 0)
		if out.Status != StatusApplied {
			t.Fatalf("%v: %v", out.Status, out.Reason)
		}
		if v, _ := out.Account.Storage.Get([]byte("count")); string(v) != "2" {
			t.Fatalf("count %q, want 2", v)
		}
		if v, _ := out.Account.Storage.Get([]byte("last")); string(v) != string(caller[:]) {
			t.Fatal("sender not stored")
		}
		out = call(t, out.Account, "clear", 0)
		if _, ok := out.Account.Storage.Get([]byte("count")); ok {
			t.Fatal("an empty value did not delete the key")
		}
		if _, ok := acct.Storage.Get([]byte("count")); ok {
			t.Fatal("the account given to Process was changed")
		}
	})
	t.Run("value passes through", func(t *testing.T) {
		out := call(t, acct, "forward", 30)
		if out.Status != StatusApplied || out.Account.Balance != 100 || len(out.Sends) != 1 ||
			out.Sends[0].To != payee || out.Sends[0].Value != 30 || string(out.Sends[0].Method) != "add" {
			t.Fatalf("%+v", out)
		}
		all := call(t, acct, "forward_all", 5)
		if all.Account.Balance != 0 || all.Sends[0].Value != 105 {
			t.Fatalf("balance() does not include the message's value: %+v", all)
		}
		if want := GasPerMessage + GasPerSend + Gas(len(acct.Code)); out.Gas <= want {
			t.Fatalf("gas %d does not count the program's steps (fixed part %d)", out.Gas, want)
		}
	})
	failures := []struct {
		method string
		value  uint64
		reason error
	}{
		{"overspend", 7, ErrInsufficientBalance},
		{"spin", 7, ErrStepLimit},
		{"explode", 7, ErrCode},
		{"many", 7, ErrTooManySends},
		{"_private", 7, ErrUnknownMethod},
		{"not_a_function", 7, ErrUnknownMethod},
		{"missing", 7, ErrUnknownMethod},
	}
	for _, f := range failures {
		t.Run("failure/"+f.method, func(t *testing.T) {
			out := call(t, acct, f.method, f.value)
			if out.Status != StatusFailed || !errors.Is(out.Reason, f.reason) {
				t.Fatalf("status %v reason %v, want failed with %v", out.Status, out.Reason, f.reason)
			}
			if !out.Account.Equal(&acct) {
				t.Fatal("a failed call changed the account")
			}
			if len(out.Sends) != 1 || out.Sends[0].To != caller || out.Sends[0].Value != f.value {
				t.Fatalf("value not bounced to the caller: %+v", out.Sends)
			}
		})
	}
	t.Run("step limit is the limit given", func(t *testing.T) {
		m := relay(caller, self, "spin", 0, nil)
		out, err := Process(acct, &m, Limits{StepLimit: 500})
		if err != nil || !errors.Is(out.Reason, ErrStepLimit) {
			t.Fatalf("%v %v", out.Reason, err)
		}
		if steps := out.Gas - GasPerMessage - Gas(len(acct.Code)); steps < 500 || steps > 510 {
			t.Fatalf("charged %d steps for a limit of 500", steps)
		}
	})
	t.Run("print is silent", func(t *testing.T) {
		if out := call(t, acct, "noisy", 0); out.Status != StatusApplied {
			t.Fatal(out.Reason)
		}
	})
	t.Run("dicts and sets iterate in insertion order", func(t *testing.T) {
		out := call(t, acct, "ordered", 0)
		if v, _ := out.Account.Storage.Get([]byte("order")); string(v) != "z,a,m,q,b" {
			t.Fatalf("order %q", v)
		}
	})
	t.Run("system methods stay system methods", func(t *testing.T) {
		out := call(t, acct, MethodAdd, 9)
		if out.Status != StatusApplied || out.Account.Balance != 109 || out.Gas != GasPerMessage {
			t.Fatalf("add on an account with code: %+v", out)
		}
	})
}

// TestCodeDialect checks that the program language has no unbounded loops,
// no recursion, no loading and no escape from the account.
func TestCodeDialect(t *testing.T) {
	for name, src := range map[string]string{
		"while loop":       "def f():\n    while True:\n        pass\n",
		"recursion":        "def f():\n    f()\n",
		"load":             "load(\"x.star\", \"y\")\ndef f():\n    pass\n",
		"top-level loop":   "for i in range(3):\n    pass\ndef f():\n    pass\n",
		"syntax error":     "def f(:\n",
		"global mutation":  "L = []\ndef f():\n    L.append(1)\n",
		"send to bad addr": "def f():\n    send(b\"short\", \"add\", 0)\n",
		"send bad method":  "def f():\n    send(self, \"no spaces\", 0)\n",
		"negative value":   "def f():\n    send(self, \"add\", -1)\n",
		"key too long":     "def f():\n    put(\"k\" * 65, \"v\")\n",
	} {
		t.Run(name, func(t *testing.T) {
			acct := Account{Address: types.Address{0xaa}, Balance: 10, Code: []byte(src)}
			m := relay(types.Address{0xcc}, acct.Address, "f", 0, nil)
			out, err := Process(acct, &m, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != StatusFailed {
				t.Fatalf("status %v, want failed", out.Status)
			}
		})
	}
}

// TestCodeDeterministic runs the same call many times: the outcome,
// including the gas, never varies.
func TestCodeDeterministic(t *testing.T) {
	acct := Account{Address: types.Address{0xaa}, Balance: 100, Code: []byte(counterProgram(types.Address{0xee}))}
	m := relay(types.Address{0xcc}, acct.Address, "ordered", 0, nil)
	first, err := Process(acct, &m, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := Process(acct, &m, Limits{})
		if again.Gas != first.Gas || !again.Account.Equal(&first.Account) {
			t.Fatal("the same call gave different outcomes")
		}
	}
}
