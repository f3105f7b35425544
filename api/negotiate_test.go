package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

func TestRequestCodec(t *testing.T) {
	tests := []struct {
		in     string
		want   Codec
		status int
	}{
		{"application/json", JSON, 0},
		{"application/json; charset=utf-8", JSON, 0},
		{"Application/JSON", JSON, 0},
		{"application/x-protobuf", Protobuf, 0},
		{" application/x-protobuf ; proto=mesos.v1.scheduler.Call", Protobuf, 0},
		{"", nil, http.StatusBadRequest},
		{"   ", nil, http.StatusBadRequest},
		{"text/plain", nil, http.StatusUnsupportedMediaType},
		{"application/recordio", nil, http.StatusUnsupportedMediaType},
		{"application/json;;", nil, http.StatusUnsupportedMediaType},
		{"json", nil, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		got, err := RequestCodec(tt.in)
		if tt.status != 0 {
			if got != nil || StatusOf(err, 0) != tt.status {
				t.Errorf("RequestCodec(%q) = %v, %v; want status %d", tt.in, got, err, tt.status)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("RequestCodec(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestResponseCodec(t *testing.T) {
	tests := []struct {
		in     string
		want   Codec
		status int
	}{
		{"", JSON, 0},
		{"*/*", JSON, 0},
		{"application/*", JSON, 0},
		{"application/json", JSON, 0},
		{"application/json; charset=utf-8", JSON, 0},
		{"application/x-protobuf", Protobuf, 0},
		{"APPLICATION/X-PROTOBUF", Protobuf, 0},
		{"text/html, application/x-protobuf", Protobuf, 0},
		{"application/x-protobuf, */*", Protobuf, 0},
		{"application/x-protobuf, application/json", JSON, 0},
		{"application/json;q=0.5, application/x-protobuf;q=0.9", Protobuf, 0},
		{"application/x-protobuf;q=0.1, */*;q=0.2", JSON, 0},
		{"application/json;q=0, */*", Protobuf, 0},
		{"application/json;q=0, application/x-protobuf;q=0", nil, http.StatusNotAcceptable},
		{"text/html", nil, http.StatusNotAcceptable},
		{"application/recordio", nil, http.StatusNotAcceptable},
		{"garbage", nil, http.StatusNotAcceptable},
		{"*/json", nil, http.StatusNotAcceptable},
		{"application/json;q=2", nil, http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		got, err := ResponseCodec(tt.in)
		if tt.status != 0 {
			if got != nil || StatusOf(err, 0) != tt.status {
				t.Errorf("ResponseCodec(%q) = %v, %v; want status %d", tt.in, got, err, tt.status)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResponseCodec(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	_, err := RequestCodec("")
	if got := StatusOf(fmt.Errorf("decode call: %w", err), 500); got != http.StatusBadRequest {
		t.Errorf("StatusOf(wrapped) = %d", got)
	}
	if got := StatusOf(fmt.Errorf("other"), 500); got != 500 {
		t.Errorf("StatusOf(other) = %d", got)
	}
}

func TestProtobufCodec(t *testing.T) {
	c := &schedulerpb.Call{
		Type:      schedulerpb.Call_SUBSCRIBE.Enum(),
		Subscribe: &schedulerpb.Call_Subscribe{FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("u")}},
	}
	if _, err := Protobuf.Marshal(c); err == nil || err.Error() != "subscribe.framework_info.name: required field missing" {
		t.Errorf("Marshal missing required: %v", err)
	}
	partial, err := proto.MarshalOptions{AllowPartial: true}.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var got schedulerpb.Call
	if err := Protobuf.Unmarshal(partial, &got); err == nil || !strings.Contains(err.Error(), "framework_info.name") {
		t.Errorf("Unmarshal missing required: %v", err)
	}
	c.Subscribe.FrameworkInfo.Name = proto.String("n")
	b, err := Protobuf.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := Protobuf.Unmarshal(b, &got); err != nil || !proto.Equal(c, &got) {
		t.Errorf("round trip: %v %v", &got, err)
	}
	if err := Protobuf.Unmarshal([]byte{0xff}, &got); err == nil {
		t.Error("garbage accepted")
	}
	if JSON.ContentType() != "application/json" || Protobuf.ContentType() != "application/x-protobuf" {
		t.Error("content types")
	}
}
