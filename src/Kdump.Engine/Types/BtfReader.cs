using System.Buffers.Binary;
using System.Text;

namespace Kdump.Engine.Types;

/// <summary>BTF type kinds (include/uapi/linux/btf.h).</summary>
public enum BtfKind : byte
{
    Unknown = 0, Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8, Volatile = 9,
    Const = 10, Restrict = 11, Func = 12, FuncProto = 13, Var = 14, DataSec = 15, Float = 16, DeclTag = 17, TypeTag = 18,
    Enum64 = 19,
}

/// <summary>
/// A validated BTF blob: header, string section and the type records, indexed by type id (1-based; 0 is void).
/// Every offset, count and reference is checked when the blob is opened; a bad blob throws
/// <see cref="KdumpException"/> "BtfCorrupt" with the byte offset of the problem.
/// </summary>
public sealed class BtfReader
{
    public const ushort Magic = 0xeb9f;
    public const int MaxBlobBytes = 256 << 20;
    private const int HeaderMin = 24;

    private readonly byte[] _data;
    private readonly int _typeStart, _typeEnd, _strStart, _strLen;
    private readonly int[] _offset; // _offset[id] = absolute offset of btf_type; _offset[0] unused

    public int Version { get; }
    /// <summary>Number of types including void (valid ids are 0..Count-1).</summary>
    public int Count => _offset.Length;
    public int Length => _data.Length;

    public BtfReader(byte[] blob)
    {
        _data = blob ?? throw new ArgumentNullException(nameof(blob));
        if (blob.Length > MaxBlobBytes) throw Corrupt(0, $"the blob is {blob.Length} bytes (limit {MaxBlobBytes})");
        if (blob.Length < HeaderMin) throw Corrupt(0, $"the blob is {blob.Length} bytes, shorter than a BTF header");
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(blob);
        if (magic != Magic)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(blob) == Magic)
                throw new KdumpException("BtfUnsupported", KdumpErrorKind.NotSupported, "Big-endian BTF is not supported.", 0);
            throw Corrupt(0, $"bad magic 0x{magic:x4} (expected 0xeb9f)");
        }
        Version = blob[2];
        if (Version != 1) throw Corrupt(2, $"version {Version} (expected 1)");
        uint hdrLen = U32(4);
        if (hdrLen < HeaderMin || hdrLen > (uint)blob.Length) throw Corrupt(4, $"header length {hdrLen}");
        uint typeOff = U32(8), typeLen = U32(12), strOff = U32(16), strLen = U32(20);
        ulong body = (ulong)blob.Length - hdrLen;
        if ((ulong)typeOff + typeLen > body) throw Corrupt(8, $"type section [{typeOff}, +{typeLen}) is outside the {body}-byte body");
        if ((ulong)strOff + strLen > body) throw Corrupt(16, $"string section [{strOff}, +{strLen}) is outside the {body}-byte body");
        if ((typeOff & 3) != 0) throw Corrupt(8, $"type section offset {typeOff} is not 4-byte aligned");
        _typeStart = (int)(hdrLen + typeOff);
        _typeEnd = _typeStart + (int)typeLen;
        _strStart = (int)(hdrLen + strOff);
        _strLen = (int)strLen;
        if (_strLen == 0 || blob[_strStart] != 0) throw Corrupt(_strStart, "the string section does not start with an empty string");
        if (blob[_strStart + _strLen - 1] != 0) throw Corrupt(_strStart + _strLen - 1, "the string section is not NUL-terminated");

        // pass 1: record offsets and check that each record fits
        var offs = new List<int>(Math.Min((int)(typeLen / 12) + 1, 1 << 22)) { 0 };
        int p = _typeStart;
        while (p < _typeEnd)
        {
            if (p + 12 > _typeEnd) throw Corrupt(p, "truncated type record");
            uint info = U32(p + 4);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            int extra = kind switch
            {
                BtfKind.Int => 4,
                BtfKind.Ptr or BtfKind.Fwd or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
                    or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
                BtfKind.Array => 12,
                BtfKind.Struct or BtfKind.Union => 12 * vlen,
                BtfKind.Enum => 8 * vlen,
                BtfKind.FuncProto => 8 * vlen,
                BtfKind.Var => 4,
                BtfKind.DataSec => 12 * vlen,
                BtfKind.DeclTag => 4,
                BtfKind.Enum64 => 12 * vlen,
                _ => throw Corrupt(p + 4, $"unknown kind {(int)kind} in type {offs.Count}"),
            };
            if ((long)p + 12 + extra > _typeEnd) throw Corrupt(p, $"type {offs.Count} ({kind}) runs past the type section");
            if (offs.Count >= (1 << 24)) throw Corrupt(p, "more than 16M types");
            offs.Add(p);
            p += 12 + extra;
        }
        _offset = offs.ToArray();
        // pass 2: names and references
        for (int id = 1; id < _offset.Length; id++) ValidateType(id);
        CheckReferenceCycles();
    }

    private static KdumpException Corrupt(long offset, string what) =>
        new("BtfCorrupt", KdumpErrorKind.InvalidData, $"The BTF data is corrupt at offset 0x{offset:x}: {what}.", offset);

    internal uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(at));
    internal int S32(int at) => BinaryPrimitives.ReadInt32LittleEndian(_data.AsSpan(at));

    public int OffsetOf(int id) => id > 0 && id < _offset.Length ? _offset[id] : throw new KdumpException("BtfTypeIdInvalid", KdumpErrorKind.InvalidArgument, $"BTF type id {id} does not exist (0..{_offset.Length - 1}).", id);
    public BtfKind KindOf(int id) => id == 0 ? BtfKind.Unknown : (BtfKind)((U32(OffsetOf(id) + 4) >> 24) & 0x1f);
    public int VlenOf(int id) => (int)(U32(OffsetOf(id) + 4) & 0xffff);
    public bool KindFlagOf(int id) => (U32(OffsetOf(id) + 4) & 0x80000000) != 0;
    public uint NameOffsetOf(int id) => U32(OffsetOf(id));
    /// <summary>The size/type field (size for INT, STRUCT, UNION, ENUM, DATASEC, FLOAT; a type id for the others).</summary>
    public uint SizeOrType(int id) => U32(OffsetOf(id) + 8);
    /// <summary>Absolute offset of the data following the 12-byte btf_type.</summary>
    public int ExtraOf(int id) => OffsetOf(id) + 12;

    public string? NameOf(int id) => id == 0 ? "void" : StringAt(NameOffsetOf(id));

    /// <summary>String at an offset into the string section; null for the empty string.</summary>
    public string? StringAt(uint off)
    {
        if (off == 0) return null;
        var span = _data.AsSpan(_strStart + (int)off, _strLen - (int)off);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(span[..end]);
    }

    /// <summary>The raw UTF-8 bytes of a name (no allocation).</summary>
    public ReadOnlySpan<byte> NameBytes(uint off)
    {
        if (off == 0) return default;
        var span = _data.AsSpan(_strStart + (int)off, _strLen - (int)off);
        return span[..span.IndexOf((byte)0)];
    }

    private void CheckName(int id, uint nameOff, int at)
    {
        if (nameOff >= (uint)_strLen) throw Corrupt(at, $"type {id} has name offset {nameOff} past the {_strLen}-byte string section");
    }

    private void CheckRef(int id, uint target, int at, bool allowVoid = true)
    {
        if (target >= (uint)_offset.Length || (!allowVoid && target == 0))
            throw Corrupt(at, $"type {id} refers to type {target} (there are {_offset.Length - 1})");
    }

    private void ValidateType(int id)
    {
        int o = _offset[id];
        CheckName(id, U32(o), o);
        var kind = KindOf(id);
        int vlen = VlenOf(id);
        int x = o + 12;
        uint st = U32(o + 8);
        switch (kind)
        {
            case BtfKind.Int:
                {
                    uint e = U32(x);
                    uint bits = e & 0xff, off = (e >> 16) & 0xff;
                    if (st is not (1 or 2 or 4 or 8 or 16)) throw Corrupt(o + 8, $"INT type {id} has size {st}");
                    if (bits == 0 || bits + off > st * 8) throw Corrupt(x, $"INT type {id} has {bits} bits at offset {off} in {st} bytes");
                    break;
                }
            case BtfKind.Ptr or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag:
                CheckRef(id, st, o + 8);
                break;
            case BtfKind.Func:
                CheckRef(id, st, o + 8, allowVoid: false);
                if (KindOf((int)st) != BtfKind.FuncProto) throw Corrupt(o + 8, $"FUNC type {id} refers to type {st}, not a FUNC_PROTO");
                break;
            case BtfKind.Array:
                CheckRef(id, U32(x), x, allowVoid: false);
                CheckRef(id, U32(x + 4), x + 4);
                break;
            case BtfKind.Struct or BtfKind.Union:
                if (st > 1u << 30) throw Corrupt(o + 8, $"{kind} type {id} has size {st}");
                for (int i = 0; i < vlen; i++)
                {
                    int m = x + i * 12;
                    CheckName(id, U32(m), m);
                    CheckRef(id, U32(m + 4), m + 4, allowVoid: false);
                    uint mo = U32(m + 8);
                    ulong bitOff = KindFlagOf(id) ? mo & 0xffffff : mo;
                    uint bitSize = KindFlagOf(id) ? mo >> 24 : 0;
                    if (bitOff + bitSize > (ulong)st * 8 + 8) throw Corrupt(m + 8, $"member {i} of type {id} lies at bit {bitOff} outside the {st}-byte {kind}");
                }
                break;
            case BtfKind.Enum:
            case BtfKind.Enum64:
                if (st is not (1 or 2 or 4 or 8)) throw Corrupt(o + 8, $"{kind} type {id} has size {st}");
                for (int i = 0; i < vlen; i++)
                {
                    int m = x + i * (kind == BtfKind.Enum ? 8 : 12);
                    CheckName(id, U32(m), m);
                }
                break;
            case BtfKind.Fwd:
                break;
            case BtfKind.FuncProto:
                CheckRef(id, st, o + 8);
                for (int i = 0; i < vlen; i++)
                {
                    int m = x + i * 8;
                    CheckName(id, U32(m), m);
                    CheckRef(id, U32(m + 4), m + 4);
                }
                break;
            case BtfKind.Var:
                CheckRef(id, st, o + 8, allowVoid: false);
                break;
            case BtfKind.DataSec:
                for (int i = 0; i < vlen; i++)
                {
                    int m = x + i * 12;
                    CheckRef(id, U32(m), m, allowVoid: false);
                    if ((ulong)U32(m + 4) + U32(m + 8) > st && st != 0) throw Corrupt(m + 4, $"variable {i} of DATASEC {id} lies outside its {st} bytes");
                }
                break;
            case BtfKind.Float:
                if (st is not (2 or 4 or 8 or 12 or 16)) throw Corrupt(o + 8, $"FLOAT type {id} has size {st}");
                break;
            case BtfKind.DeclTag:
                CheckRef(id, st, o + 8, allowVoid: false);
                if (S32(x) < -1) throw Corrupt(x, $"DECL_TAG {id} has component index {S32(x)}");
                break;
        }
    }

    /// <summary>
    /// Rejects reference loops that would never reach a concrete type (a pointer to itself, a typedef of itself,
    /// an array of itself): following them would recurse forever.
    /// </summary>
    private void CheckReferenceCycles()
    {
        var state = new byte[_offset.Length]; // 0 new, 1 on path, 2 done
        var path = new List<int>();
        for (int start = 1; start < _offset.Length; start++)
        {
            int id = start;
            path.Clear();
            while (id != 0 && state[id] == 0)
            {
                state[id] = 1;
                path.Add(id);
                id = RefTarget(id);
            }
            if (id != 0 && state[id] == 1) throw Corrupt(_offset[id], $"type {id} refers to itself through a chain of {path.Count} references");
            foreach (var p in path) state[p] = 2;
        }
    }

    /// <summary>The type a reference-like type points at (0 when the type is concrete).</summary>
    internal int RefTarget(int id) => KindOf(id) switch
    {
        BtfKind.Ptr or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Var => (int)SizeOrType(id),
        BtfKind.Array => (int)U32(ExtraOf(id)),
        _ => 0,
    };
}
