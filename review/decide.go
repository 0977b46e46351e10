package review

// Decision is a reviewer's decision on an item.
type Decision struct {
	// ItemID is the item decided.
	ItemID int64 `json:"item_id"`
	// Reviewer is who decides: an active reviewer of the item.
	Reviewer string `json:"reviewer"`
	// Verdict is Certify or Revoke.
	Verdict Verdict `json:"verdict"`
	// Justification says why: required for a revoke, and for a certify
	// with CampaignSpec.JustifyCertify.
	Justification string `json:"justification,omitempty"`
}
