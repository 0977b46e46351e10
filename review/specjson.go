package review

import (
	"encoding/json"
	"fmt"
)

// decodeSpec reads a spec as stored.
func decodeSpec(s string) (CampaignSpec, error) {
	var spec CampaignSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		return CampaignSpec{}, fmt.Errorf("stored spec: %w", err)
	}
	return spec, nil
}
