package agent

import "net/http"

// resourceRoutes registers the internal endpoints that change the agent's
// checkpointed resources (reservations and volumes applied by the master).
func (a *Agent) resourceRoutes(mux *http.ServeMux) {}
