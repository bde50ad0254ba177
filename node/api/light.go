package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/thinkey/thinkey/crypto/hash"
	"github.com/thinkey/thinkey/node/actor"
	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/node/types"
)

// errNoProof: the node answered neither a proof nor an error.
var errNoProof = errors.New("node returned no proof")

// getLightHeader handles GET /v1/light/chains/{chain}/blocks/{height}.
func (s *Server) getLightHeader(w http.ResponseWriter, r *http.Request) {
	chain, err := parseChain(r.PathValue("chain"))
	if err != nil {
		writeError(w, badRequest(CodeBadChain, "chain: %v", err))
		return
	}
	height, err := parseHeight(r.PathValue("height"))
	if err != nil {
		writeError(w, badRequest(CodeBadBlock, "height: %v", err))
		return
	}
	p, err := s.node.LightHeader(chain, height)
	if err == nil && p == nil {
		err = errNoProof
	}
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	out, err := toLightHeaderJSON(p)
	if err != nil {
		s.nodeFailed(w, r, fmt.Errorf("light header %d/%d: %w", chain, height, err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// getLightAccount handles GET /v1/light/accounts/{address}.
func (s *Server) getLightAccount(w http.ResponseWriter, r *http.Request) {
	var addr types.Address
	if err := decodeFixed(r.PathValue("address"), addr[:]); err != nil {
		writeError(w, badRequest(CodeBadAddress, "address: %v", err))
		return
	}
	p, err := s.node.LightAccount(addr)
	if err == nil && p == nil {
		err = errNoProof
	}
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	out, err := toLightAccountJSON(p)
	if err != nil {
		s.nodeFailed(w, r, fmt.Errorf("light account %v: %w", addr, err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// getLightRelay handles GET /v1/light/relays/{id}.
func (s *Server) getLightRelay(w http.ResponseWriter, r *http.Request) {
	var id types.Hash
	if err := decodeFixed(r.PathValue("id"), id[:]); err != nil {
		writeError(w, badRequest(CodeBadID, "relay id: %v", err))
		return
	}
	p, err := s.node.LightRelay(id)
	if err == nil && p == nil {
		err = errNoProof
	}
	if err != nil {
		s.nodeFailed(w, r, err)
		return
	}
	out, err := toLightRelayJSON(p)
	if err != nil {
		s.nodeFailed(w, r, fmt.Errorf("light relay %v: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// parseHeight reads a decimal height.
func parseHeight(s string) (types.Height, error) {
	if !isDecimal(s) {
		return 0, fmt.Errorf("%q: want a decimal height", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: height above 2^64-1", s)
	}
	return types.Height(n), nil
}

// The light proof bodies: "proof" is the canonical encoding (node/light)
// in hex, the one thing a client verifies; the other fields say what it
// claims, for people and for picking the right proof.

// lightHopJSON names one header of a proof.
type lightHopJSON struct {
	Chain  uint32 `json:"chain"`
	Height uint64 `json:"height"`
	Hash   string `json:"hash"`
}

// lightBlockJSON is what a header proof claims.
type lightBlockJSON struct {
	Chain          uint32           `json:"chain"`
	Height         uint64           `json:"height"`
	Hash           string           `json:"hash"`
	Empty          bool             `json:"empty"`
	StateRoot      string           `json:"state_root"`
	OuterRelayRoot string           `json:"outer_relay_root"`
	Lifts          []lightHopJSON   `json:"lifts"`
	RootHeight     uint64           `json:"root_height"`
	RootHash       string           `json:"root_hash"`
	Certificate    *certificateJSON `json:"certificate"`
}

type lightHeaderJSON struct {
	Proof string `json:"proof"`
	lightBlockJSON
}

type lightAccountJSON struct {
	Proof    string         `json:"proof"`
	Address  string         `json:"address"`
	Balance  uint64         `json:"balance"`
	Nonce    uint64         `json:"nonce"`
	CodeHash string         `json:"code_hash"`
	Block    lightBlockJSON `json:"block"`
}

type lightRelayJSON struct {
	Proof   string         `json:"proof"`
	ID      string         `json:"id"`
	Message messageJSON    `json:"message"`
	Block   lightBlockJSON `json:"block"`
}

func toLightBlockJSON(p *light.HeaderProof) lightBlockJSON {
	h, root := &p.Header, p.Root()
	out := lightBlockJSON{
		Chain:          uint32(h.ChainID),
		Height:         uint64(h.Height),
		Hash:           h.Hash().String(),
		Empty:          h.Empty,
		StateRoot:      h.StateRoot.String(),
		OuterRelayRoot: h.OuterRelayRoot.String(),
		Lifts:          make([]lightHopJSON, len(p.Lifts)),
		RootHeight:     uint64(root.Height),
		RootHash:       root.Hash().String(),
		Certificate:    toCertificateJSON(&p.RootCertificate),
	}
	for i := range p.Lifts {
		r := &p.Lifts[i].Recorder
		out.Lifts[i] = lightHopJSON{Chain: uint32(r.ChainID), Height: uint64(r.Height), Hash: r.Hash().String()}
	}
	return out
}

func toLightHeaderJSON(p *light.HeaderProof) (lightHeaderJSON, error) {
	enc, err := p.MarshalBinary()
	if err != nil {
		return lightHeaderJSON{}, err
	}
	return lightHeaderJSON{Proof: hex.EncodeToString(enc), lightBlockJSON: toLightBlockJSON(p)}, nil
}

func toLightAccountJSON(p *light.AccountProof) (lightAccountJSON, error) {
	enc, err := p.MarshalBinary()
	if err != nil {
		return lightAccountJSON{}, err
	}
	a, err := actor.DecodeAccount(p.Account) // it encoded, so it decodes
	if err != nil {
		return lightAccountJSON{}, err
	}
	var code types.Hash
	if len(a.Code) > 0 {
		code = hash.Sum256(a.Code)
	}
	return lightAccountJSON{
		Proof:    hex.EncodeToString(enc),
		Address:  a.Address.String(),
		Balance:  a.Balance,
		Nonce:    a.Nonce,
		CodeHash: code.String(),
		Block:    toLightBlockJSON(&p.Block),
	}, nil
}

func toLightRelayJSON(p *light.RelayProof) (lightRelayJSON, error) {
	enc, err := p.MarshalBinary()
	if err != nil {
		return lightRelayJSON{}, err
	}
	m := toMessageJSON(&p.Message)
	return lightRelayJSON{Proof: hex.EncodeToString(enc), ID: m.ID, Message: m, Block: toLightBlockJSON(&p.Block)}, nil
}
