package txcmd

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/thinkey/thinkey/node/types"
)

// ErrNotFound: the API answered 404.
var ErrNotFound = errors.New("not found")

// ErrWrongChain: the API answered 421 wrong_chain: what was asked is on a
// chain the node does not run (APIError.Chain says which, when known).
var ErrWrongChain = errors.New("wrong chain")

// CodeWrongChain is the API's error code of ErrWrongChain.
const CodeWrongChain = "wrong_chain"

// Client calls one node's HTTP API (node/api).
type Client struct {
	// Base is the API's base URL, e.g. http://127.0.0.1:7680.
	Base string
	HTTP *http.Client
}

// NewClient returns a client of the API at base, which must be an http or
// https URL.
func NewClient(base string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api url %q: want http://host:port", base)
	}
	return &Client{
		Base: strings.TrimSuffix(base, "/"),
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}, nil
}

// APIError is an error body of the API.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"error"`
	// Chain is the chain to ask instead, with code wrong_chain.
	Chain *uint32 `json:"chain,omitempty"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes a 404 match ErrNotFound and a wrong_chain answer ErrWrongChain.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrWrongChain:
		return e.Code == CodeWrongChain
	}
	return false
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 && !(resp.StatusCode < 500 && method == http.MethodPost && out != nil && isSubmitResult(data)) {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// isSubmitResult tells a refused single submission (a result with a reason)
// from an error of the request itself.
func isSubmitResult(data []byte) bool {
	var probe struct {
		Accepted *bool `json:"accepted"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Accepted != nil
}

// SubmitResult is the API's verdict on one message.
type SubmitResult struct {
	ID       string `json:"id"`
	Accepted bool   `json:"accepted"`
	Chain    uint32 `json:"chain"`
	Error    string `json:"error,omitempty"`
	Code     string `json:"code,omitempty"`
}

type rawInput struct {
	Raw string `json:"raw"`
}

// Submit sends one message in its canonical encoding.
func (c *Client) Submit(ctx context.Context, m *types.Message) (SubmitResult, error) {
	enc, err := m.MarshalBinary()
	if err != nil {
		return SubmitResult{}, err
	}
	var r SubmitResult
	err = c.do(ctx, http.MethodPost, "/v1/messages", rawInput{Raw: hex.EncodeToString(enc)}, &r)
	return r, err
}

// SubmitBatch sends several messages in one request (at most node/api's
// MaxBatchMessages).
func (c *Client) SubmitBatch(ctx context.Context, msgs []types.Message) ([]SubmitResult, error) {
	in := struct {
		Messages []rawInput `json:"messages"`
	}{Messages: make([]rawInput, len(msgs))}
	for i := range msgs {
		enc, err := msgs[i].MarshalBinary()
		if err != nil {
			return nil, err
		}
		in.Messages[i] = rawInput{Raw: hex.EncodeToString(enc)}
	}
	var out struct {
		Results []SubmitResult `json:"results"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/messages", in, &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(msgs) {
		return nil, fmt.Errorf("api answered %d results for %d messages", len(out.Results), len(msgs))
	}
	return out.Results, nil
}

// MessageStatus is the API's status of a message.
type MessageStatus struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Chain     *uint32 `json:"chain,omitempty"`
	Height    *uint64 `json:"height,omitempty"`
	BlockHash string  `json:"block_hash,omitempty"`
	Reason    string  `json:"reason,omitempty"`
}

// Message returns the status of a message; an error matching ErrNotFound
// when the node knows nothing of it.
func (c *Client) Message(ctx context.Context, id types.Hash) (MessageStatus, error) {
	var s MessageStatus
	err := c.do(ctx, http.MethodGet, "/v1/messages/"+id.String(), nil, &s)
	return s, err
}

// AccountState is the API's view of an account.
type AccountState struct {
	Address   string `json:"address"`
	Chain     uint32 `json:"chain"`
	Height    uint64 `json:"height"`
	StateRoot string `json:"state_root"`
	Balance   uint64 `json:"balance"`
	Nonce     uint64 `json:"nonce"`
}

// Account returns an account; an error matching ErrNotFound when it does
// not exist.
func (c *Client) Account(ctx context.Context, addr types.Address) (AccountState, error) {
	var a AccountState
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+addr.String(), nil, &a)
	return a, err
}

// The kinds of chains of GET /v1/chains.
const (
	KindRoot        = "root"
	KindCoordinator = "coordinator"
	KindTransaction = "transaction"
)

// Chain is one entry of GET /v1/chains.
type Chain struct {
	ID uint32 `json:"id"`
	// Kind is KindRoot, KindCoordinator or KindTransaction; only
	// transaction chains hold accounts.
	Kind string `json:"kind"`
	// Parent is the chain that records this one's digests.
	Parent uint32 `json:"parent"`
	// Served is set when the node that answered runs the chain.
	Served bool `json:"served"`
	Root   bool `json:"root"`
	// Prefix is the address prefix the chain owns, as binary digits ("" for
	// every address).
	Prefix    string `json:"prefix"`
	Height    uint64 `json:"height"`
	HeadHash  string `json:"head_hash"`
	StateRoot string `json:"state_root"`
	// ConfirmedHeight is the highest height recorded by the chain's
	// recorder on the node: its messages up to it are confirmed.
	ConfirmedHeight uint64 `json:"confirmed_height"`
	Pending         int    `json:"pending"`
}

// OwnerOf returns the transaction chain of chains that holds addr: the one
// whose prefix starts addr's bits (the transaction chains' prefixes
// partition the addresses). ok is false when none matches.
func OwnerOf(chains []Chain, addr types.Address) (uint32, bool) {
	for _, c := range chains {
		if c.Kind == KindTransaction && hasPrefix(addr, c.Prefix) {
			return c.ID, true
		}
	}
	return 0, false
}

// hasPrefix reports whether addr's first bits are the binary digits of
// prefix.
func hasPrefix(addr types.Address, prefix string) bool {
	if len(prefix) > 8*len(addr) {
		return false
	}
	for i := range len(prefix) {
		bit := addr[i/8] >> (7 - uint(i%8)) & 1
		if prefix[i] != '0'+bit {
			return false
		}
	}
	return true
}

// Served returns the transaction chains of chains that the node runs.
func Served(chains []Chain) []uint32 {
	var out []uint32
	for _, c := range chains {
		if c.Kind == KindTransaction && c.Served {
			out = append(out, c.ID)
		}
	}
	return out
}

// Status is the part of GET /v1/status the tools read.
type Status struct {
	NodeID string `json:"node_id"`
	// Chains are the chains the node runs.
	Chains []uint32 `json:"chains"`
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
	return s, err
}

// Chains lists the network's chains as the node sees them.
func (c *Client) Chains(ctx context.Context) ([]Chain, error) {
	var out struct {
		Chains []Chain `json:"chains"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/chains", nil, &out)
	return out.Chains, err
}

// Block is the part of GET /v1/chains/{chain}/blocks/{height} the tools read.
type Block struct {
	Hash   string `json:"hash"`
	Header struct {
		Height      uint64 `json:"height"`
		TimestampMs uint64 `json:"timestamp_ms"`
		StateRoot   string `json:"state_root"`
		Empty       bool   `json:"empty"`
	} `json:"header"`
	Inputs []struct {
		ID string `json:"id"`
		// Kind is "external", or "outer-relay" for a relay from another
		// chain.
		Kind string `json:"kind"`
	} `json:"inputs"`
	// OuterRelay are the block's relays to other chains.
	OuterRelay []Relay `json:"outer_relay"`
}

// Relay is an outer-relay message of a block.
type Relay struct {
	ID    string `json:"id"`
	To    string `json:"to"`
	Value uint64 `json:"value"`
	// Cause is the ID of the message whose execution produced the relay.
	Cause string `json:"cause"`
}

// Block returns the block of chain at height.
func (c *Client) Block(ctx context.Context, chain uint32, height uint64) (Block, error) {
	var b Block
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/chains/%d/blocks/%d", chain, height), nil, &b)
	return b, err
}

// Healthy returns nil when /healthz answers 200.
func (c *Client) Healthy(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil)
}
