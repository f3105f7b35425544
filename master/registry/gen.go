package registry

//go:generate sh -c "/usr/bin/protoc -I ../../api/proto -I . --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative --go_opt=Mregistry.proto=github.com/cairnhq/cairn/master/registry registry.proto"
