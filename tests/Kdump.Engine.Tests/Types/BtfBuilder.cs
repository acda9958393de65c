using System.Buffers.Binary;
using System.Text;

namespace Kdump.Engine.Tests;

/// <summary>Writes small BTF blobs for tests: add types in id order (first added = id 1), then Build().</summary>
public sealed class BtfBuilder
{
    private readonly List<byte> _types = new();
    private readonly List<byte> _strings = new() { 0 };
    private readonly Dictionary<string, uint> _strOff = new();
    public int NextId { get; private set; } = 1;

    public uint Str(string? s)
    {
        if (string.IsNullOrEmpty(s)) return 0;
        if (_strOff.TryGetValue(s, out var o)) return o;
        o = (uint)_strings.Count;
        _strings.AddRange(Encoding.UTF8.GetBytes(s)); _strings.Add(0);
        return _strOff[s] = o;
    }

    private void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _types.AddRange(b.ToArray()); }

    public int Type(string? name, int kind, int vlen, bool kindFlag, uint sizeOrType)
    {
        U32(Str(name)); U32((uint)vlen | ((uint)kind << 24) | (kindFlag ? 0x80000000u : 0)); U32(sizeOrType);
        return NextId++;
    }

    public int Int(string name, uint size, bool signed = false, bool isChar = false, bool isBool = false)
    { int id = Type(name, 1, 0, false, size); U32(((signed ? 1u : 0) | (isChar ? 2u : 0) | (isBool ? 4u : 0)) << 24 | size * 8); return id; }
    public int Ptr(int target) => Type(null, 2, 0, false, (uint)target);
    public int Array(int elem, int index, uint n) { int id = Type(null, 3, 0, false, 0); U32((uint)elem); U32((uint)index); U32(n); return id; }

    /// <summary>members: (name, type, bitOffset, bitfieldSize); kindFlag is set when any bitfield size is given.</summary>
    public int Struct(string? name, uint size, params (string? Name, int Type, uint BitOffset, uint BitSize)[] members) => Composite(4, name, size, members);
    public int Union(string? name, uint size, params (string? Name, int Type, uint BitOffset, uint BitSize)[] members) => Composite(5, name, size, members);
    private int Composite(int kind, string? name, uint size, (string? Name, int Type, uint BitOffset, uint BitSize)[] members)
    {
        bool kf = members.Any(m => m.BitSize != 0);
        int id = Type(name, kind, members.Length, kf, size);
        foreach (var m in members) { U32(Str(m.Name)); U32((uint)m.Type); U32(kf ? (m.BitSize << 24) | m.BitOffset : m.BitOffset); }
        return id;
    }
    public int Enum(string name, uint size, bool signed, params (string, int)[] vals)
    { int id = Type(name, 6, vals.Length, signed, size); foreach (var (n, v) in vals) { U32(Str(n)); U32((uint)v); } return id; }
    public int Enum64(string name, params (string, ulong)[] vals)
    { int id = Type(name, 19, vals.Length, false, 8); foreach (var (n, v) in vals) { U32(Str(n)); U32((uint)v); U32((uint)(v >> 32)); } return id; }
    public int Fwd(string name, bool union = false) => Type(name, 7, 0, union, 0);
    public int Typedef(string name, int t) => Type(name, 8, 0, false, (uint)t);
    public int Volatile(int t) => Type(null, 9, 0, false, (uint)t);
    public int Const(int t) => Type(null, 10, 0, false, (uint)t);
    public int Restrict(int t) => Type(null, 11, 0, false, (uint)t);
    public int FuncProto(int ret, params (string? Name, int Type)[] ps) { int id = Type(null, 13, ps.Length, false, (uint)ret); foreach (var p in ps) { U32(Str(p.Name)); U32((uint)p.Type); } return id; }
    public int Func(string name, int proto) => Type(name, 12, 1, false, (uint)proto);
    public int Var(string name, int t) { int id = Type(name, 14, 0, false, (uint)t); U32(1); return id; }
    public int DataSec(string name, uint size, params (int Var, uint Offset, uint Size)[] vs) { int id = Type(name, 15, vs.Length, false, size); foreach (var v in vs) { U32((uint)v.Var); U32(v.Offset); U32(v.Size); } return id; }
    public int Float(string name, uint size) => Type(name, 16, 0, false, size);
    public int DeclTag(string name, int t, int component) { int id = Type(name, 17, 0, false, (uint)t); U32((uint)component); return id; }
    public int TypeTag(string name, int t) => Type(name, 18, 0, false, (uint)t);

    /// <summary>Appends raw bytes to the type section (for corrupt blobs).</summary>
    public void Raw(params uint[] words) { foreach (var w in words) U32(w); }

    public byte[] Build()
    {
        var hdr = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(hdr, 0xeb9f); hdr[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(12), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(16), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr.AsSpan(20), (uint)_strings.Count);
        return hdr.Concat(_types).Concat(_strings).ToArray();
    }
}
