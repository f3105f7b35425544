package allocator
import "testing"
func TestTraceSeed(t *testing.T) { propTrace = true; defer func(){propTrace=false}(); runRandom(t, 2, 150) }
