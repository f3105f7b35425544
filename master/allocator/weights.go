package allocator

import (
	"fmt"
	"maps"
)

// UpdateWeights sets the weights of the given roles (UPDATE_WEIGHTS);
// other roles keep theirs. Weight 1 is the default and is not listed by
// Weights afterwards. All apply or none.
func (a *Allocator) UpdateWeights(weights map[string]float64) error {
	if err := checkWeights(weights); err != nil {
		return fmt.Errorf("update weights: %w", err)
	}
	for role, w := range weights {
		if w == 1 {
			delete(a.weights, role)
		} else {
			a.weights[role] = w
		}
		if n := a.roles[role]; n != nil {
			a.setWeight(n, w)
		}
	}
	return nil
}

// Weights returns the roles whose weight is not 1 (GET_WEIGHTS; /weights).
func (a *Allocator) Weights() map[string]float64 {
	return maps.Clone(a.weights)
}
