package resources

import (
	"fmt"
	"strings"
)

// ValidateRole checks a role name by Mesos's rules: "*" alone, or one or more
// '/'-separated components (hierarchical roles), none of them empty, ".",
// "..", "*", or starting with '-', and no whitespace or control characters.
func ValidateRole(role string) error {
	if role == Unreserved {
		return nil
	}
	if role == "" {
		return fmt.Errorf("empty role name")
	}
	for _, part := range strings.Split(role, "/") {
		switch {
		case part == "":
			return fmt.Errorf("role %q has an empty component", role)
		case part == "." || part == "..":
			return fmt.Errorf("role %q has component %q", role, part)
		case part == Unreserved:
			return fmt.Errorf("role %q: '*' may only stand alone", role)
		case part[0] == '-':
			return fmt.Errorf("role %q has a component starting with '-'", role)
		case hasSpaceOrControl(part):
			return fmt.Errorf("role %q has whitespace or a control character", role)
		case strings.ContainsAny(part, "()"):
			// Parentheses would end the role in the text syntax "cpus(role):1".
			return fmt.Errorf("role %q has a parenthesis", role)
		}
	}
	return nil
}

// IsSubrole reports whether role lies strictly below ancestor in the role
// hierarchy: "eng/web" and "eng/web/a" are subroles of "eng"; "eng" and
// "engineering" are not. Nothing is a subrole of "*".
func IsSubrole(role, ancestor string) bool {
	return ancestor != Unreserved && len(role) > len(ancestor) &&
		role[len(ancestor)] == '/' && strings.HasPrefix(role, ancestor)
}

// IsAllocatableTo reports whether a resource reserved for reservation ("*"
// when unreserved) may be offered to a framework in role.
func IsAllocatableTo(reservation, role string) bool {
	return reservation == Unreserved || reservation == role || IsSubrole(role, reservation)
}

// ParentRole returns the role directly above role ("eng" for "eng/web"),
// and false for a top-level role.
func ParentRole(role string) (string, bool) {
	i := strings.LastIndexByte(role, '/')
	if i < 0 {
		return "", false
	}
	return role[:i], true
}
