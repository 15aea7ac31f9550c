// The C types the table tests (unit and kernel tier) build their BTF from: keys with padding, char arrays, nested
// structs and unions. Each test compiles these with its own globals (which types end up in BTF).

/** Integer typedefs and the structs key_t, padded, inner and nested. */
export const TABLE_TEST_TYPES_C = `
typedef unsigned int u32; typedef unsigned long long u64; typedef unsigned char u8; typedef unsigned short u16;
struct key_t { u32 pid; u32 tid; char comm[16]; };
struct padded { u8 a; u64 b; u16 c; };
struct inner { u32 x; u16 y; };
struct nested { struct inner in; union { u32 u; u8 bytes[4]; } un; char name[6]; };
`;
