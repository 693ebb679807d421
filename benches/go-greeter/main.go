// A grpc-go greeter for the load harness (benches/load): the engine under Go
// Kratos, serving helloworld.v1.Greeter/SayHello like our examples.
//
// Built offline from Debian's packages by build.sh (GOPATH mode, no module
// proxy), hence the hand-written APIv1 message structs and ServiceDesc in
// place of protoc-gen-go output. Prints "PORT <n>" once listening on
// 127.0.0.1 and serves until killed.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
)

// HelloRequest is helloworld.v1.HelloRequest.
type HelloRequest struct {
	Name string `protobuf:"bytes,1,opt,name=name,proto3" json:"name,omitempty"`
}

func (m *HelloRequest) Reset()         { *m = HelloRequest{} }
func (m *HelloRequest) String() string { return m.Name }
func (*HelloRequest) ProtoMessage()    {}

// HelloReply is helloworld.v1.HelloReply.
type HelloReply struct {
	Message string `protobuf:"bytes,1,opt,name=message,proto3" json:"message,omitempty"`
}

func (m *HelloReply) Reset()         { *m = HelloReply{} }
func (m *HelloReply) String() string { return m.Message }
func (*HelloReply) ProtoMessage()    {}

// GreeterServer is the service interface.
type GreeterServer interface {
	SayHello(context.Context, *HelloRequest) (*HelloReply, error)
}

func sayHelloHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(HelloRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(GreeterServer).SayHello(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/helloworld.v1.Greeter/SayHello"}
	handler := func(ctx context.Context, req interface{}) (interface{}, error) {
		return srv.(GreeterServer).SayHello(ctx, req.(*HelloRequest))
	}
	return interceptor(ctx, in, info, handler)
}

var greeterDesc = grpc.ServiceDesc{
	ServiceName: "helloworld.v1.Greeter",
	HandlerType: (*GreeterServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "SayHello", Handler: sayHelloHandler}},
	Streams:     []grpc.StreamDesc{},
	Metadata:    "helloworld/v1/greeter.proto",
}

type greeter struct{}

func (greeter) SayHello(_ context.Context, in *HelloRequest) (*HelloReply, error) {
	return &HelloReply{Message: "Hello " + in.Name}, nil
}

func main() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("PORT %d\n", lis.Addr().(*net.TCPAddr).Port)
	s := grpc.NewServer()
	s.RegisterService(&greeterDesc, greeter{})
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
