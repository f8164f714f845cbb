package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mwledger/mwledger/internal/review"
	"github.com/mwledger/mwledger/ledger"
)

// Reviewer is a ledger that records reviews (both stores are).
type Reviewer interface {
	Review(ctx context.Context, id string, a ledger.ReviewAction) (*ledger.Deal, error)
}

// ReviewRequest is the body of POST /api/deals/{id}/review.
type ReviewRequest struct {
	// Action is accept, correct or reset.
	Action string `json:"action"`
	// Corrections (correct only): field and value, see ledger.ReviewFields.
	Corrections []ledger.Correction `json:"corrections"`
	// By is who reviews. Over HTTP the reviewer comes from the credentials:
	// By may be left out, and must name the same reviewer when given.
	By   string `json:"by"`
	Note string `json:"note"`
}

// ToAction checks the request and turns it into a ledger action.
func (r ReviewRequest) ToAction() (ledger.ReviewAction, error) {
	a := ledger.ReviewAction{By: strings.TrimSpace(r.By), Note: strings.TrimSpace(r.Note)}
	switch r.Action {
	case "accept":
		a.Accept = true
	case "reset":
		a.Reset = true
	case "correct":
		if len(r.Corrections) == 0 {
			return a, errors.New("correct: give at least one correction")
		}
	default:
		return a, errors.New(`action must be "accept", "correct" or "reset"`)
	}
	if r.Action != "correct" && len(r.Corrections) > 0 {
		return a, errors.New("corrections go with the correct action")
	}
	for _, c := range r.Corrections {
		pc, err := ledger.ParseCorrection(c.Field, c.Value)
		if err != nil {
			return a, err
		}
		a.Corrections = append(a.Corrections, pc)
	}
	a.Corrections = review.CanonicalCorrections(a.Corrections)
	return a, a.Validate()
}

// maxReviewBody bounds a review request.
const maxReviewBody = 64 << 10

// review applies a reviewer's verdict. It takes JSON from this site's own
// page (Origin or Sec-Fetch-Site, see sameOrigin) with a reviewer's
// credentials; the reviewer is who the credentials name.
func (h *handler) review(w http.ResponseWriter, r *http.Request) {
	rs, ok := h.store.(Reviewer)
	if !ok {
		h.json(w, http.StatusMethodNotAllowed, apiError{"this ledger is read-only"})
		return
	}
	if err := sameOrigin(r, h.origins); err != nil {
		h.log.Warn("review refused", "reason", "origin", "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		h.json(w, http.StatusForbidden, apiError{err.Error()})
		return
	}
	if h.reviewers.Len() == 0 {
		h.json(w, http.StatusForbidden, apiError{"this server takes no reviews: no reviewer credentials are configured"})
		return
	}
	who, ok := h.reviewers.Identify(r)
	if !ok {
		h.log.Warn("review refused", "reason", "credentials", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", h.reviewers.challenge())
		h.json(w, http.StatusUnauthorized, apiError{"reviews need a reviewer's token (Authorization: Bearer …) or account"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.json(w, http.StatusUnsupportedMediaType, apiError{"send the review as application/json"})
		return
	}
	var req ReviewRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxReviewBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.json(w, http.StatusBadRequest, apiError{"the review is not valid JSON: " + err.Error()})
		return
	}
	if by := strings.TrimSpace(req.By); by != "" && by != who {
		h.json(w, http.StatusForbidden, apiError{fmt.Sprintf("you are signed in as %s, not %s", who, by)})
		return
	}
	req.By = who
	a, err := req.ToAction()
	if err != nil {
		h.json(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	d, err := rs.Review(r.Context(), r.PathValue("id"), a)
	if errors.Is(err, ledger.ErrNoDeal) {
		h.json(w, http.StatusNotFound, apiError{"no such deal"})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("deal reviewed", "deal", d.ID, "by", a.By, "accept", a.Accept, "reset", a.Reset, "corrections", len(a.Corrections))
	h.json(w, http.StatusOK, d)
}

// reviewFields lists the fields a correction may set (the page's form).
func (h *handler) reviewFields(w http.ResponseWriter, _ *http.Request) {
	h.json(w, http.StatusOK, ledger.ReviewFields)
}
