/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto of the ONNX
 * specification, IR versions 3..10) that nibble reads and writes. Field numbers
 * and enum values are facts of the specification; messages and fields nibble
 * does not use are left out (protobufjs skips unknown fields when decoding).
 * Parsed once, in-process, by protobufjs: nothing is fetched at run time.
 */
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';

export const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
  repeated FunctionProto functions = 25;
}

// Only the identity of a model-local function is read: nibble does not inline them.
message FunctionProto {
  optional string name = 1;
  optional string domain = 10;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated SparseTensorProto sparse_initializer = 15;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    GRAPH = 5;
    FLOATS = 6;
    INTS = 7;
    STRINGS = 8;
    TENSORS = 9;
    GRAPHS = 10;
    SPARSE_TENSOR = 11;
    SPARSE_TENSORS = 12;
    TYPE_PROTO = 13;
    TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7 [packed = false];
  repeated int64 ints = 8 [packed = false];
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional string ref_attr_name = 21;
  optional SparseTensorProto sparse_tensor = 22;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message TensorProto {
  message Segment {
    optional int64 begin = 1;
    optional int64 end = 2;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  optional string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}

message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
  repeated int64 dims = 3;
}

message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

// A value type other than a dense tensor is only recognised, to be refused by name.
message OtherTypeProto {
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
  optional OtherTypeProto sequence_type = 4;
  optional OtherTypeProto map_type = 5;
  optional string denotation = 6;
  optional OtherTypeProto sparse_tensor_type = 8;
  optional OtherTypeProto optional_type = 9;
}
`;

/** TensorProto.DataType values of the specification (IR version 10). */
export const DATA_TYPE = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

export type DataTypeName = keyof typeof DATA_TYPE;

export function dataTypeName(code: number): string {
  const hit = (Object.keys(DATA_TYPE) as DataTypeName[]).find((k) => DATA_TYPE[k] === code);
  return hit ?? `data type ${code}`;
}

/** TensorProto.DataLocation.EXTERNAL */
export const DATA_LOCATION_EXTERNAL = 1;

let root: protobuf.Root | undefined;

/**
 * The parsed schema (parsed on first use). protobufjs itself loads here too:
 * every command that reads a model loads models/, and only ONNX needs protobufjs
 * (about 20 ms of a `nibble compile` process).
 */
export function onnxSchema(): protobuf.Root {
  root ??= (createRequire(import.meta.url)('protobufjs') as typeof protobuf).parse(ONNX_SCHEMA, {
    keepCase: true,
  }).root;
  return root;
}

export function modelProtoType(): protobuf.Type {
  return onnxSchema().lookupType('onnx.ModelProto');
}
