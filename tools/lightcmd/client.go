package lightcmd

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/thinkey/thinkey/node/light"
	"github.com/thinkey/thinkey/tools/txcmd"
)

// maxAnswer bounds an answer read from the node: the longest proof in hex
// with room for the readable fields.
const maxAnswer = 4*light.AccountProofMaxSize + 64<<10

// ErrNotFound: the node answered 404: it does not have the object, or the
// root chain has not recorded it yet.
var ErrNotFound = txcmd.ErrNotFound

// fetchProof GETs path from the node and returns the bytes of the
// answer's "proof" field (hex). Nothing else of the answer is trusted.
func fetchProof(ctx context.Context, c *txcmd.Client, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if len(data) > maxAnswer {
		return nil, fmt.Errorf("GET %s: answer over %d bytes", path, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		e := &txcmd.APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return nil, e
	}
	var answer struct {
		Proof *string `json:"proof"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, fmt.Errorf("GET %s: answer is not JSON: %w", path, err)
	}
	if answer.Proof == nil {
		return nil, fmt.Errorf("GET %s: answer has no proof", path)
	}
	proof, err := hex.DecodeString(*answer.Proof)
	if err != nil {
		return nil, fmt.Errorf("GET %s: proof is not hex: %w", path, err)
	}
	return proof, nil
}

// notFound rewrites a 404 into the message a user needs.
func notFound(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s: the node does not have it, or the root chain has not recorded it yet (%w)", what, err)
	}
	return err
}
