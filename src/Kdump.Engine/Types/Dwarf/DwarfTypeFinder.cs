using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kdump.Engine.Types.Dwarf;

/// <summary>
/// An <see cref="ITypeFinder"/> over the DWARF of a debuginfo vmlinux. Opening builds only a name index
/// (<see cref="DwarfIndex"/>); types are materialized from their DIEs on demand, and a type's members, targets
/// and elements only when first touched. Thread-safe.
/// </summary>
public sealed class DwarfTypeFinder : ITypeFinder
{
    /// <summary>Largest array element count accepted from the debug info.</summary>
    public const ulong MaxArrayCount = 1UL << 32;
    private const int MaxChain = 64;
    private const int MaxBuildDepth = 200;
    [ThreadStatic] private static int t_depth;
    private const int MaxMembers = 1 << 16;
    private const int MaxEnumerators = 1 << 20;

    private readonly DwarfInfo _info;
    private readonly DwarfIndex _index;
    private readonly ConcurrentDictionary<int, KType> _types = new();
    private readonly Lazy<Dictionary<string, long>> _enumerators;

    public string Source { get; }
    /// <summary>Units in .debug_info.</summary>
    public int UnitCount => _info.Units.Count;
    /// <summary>Distinct names in the index (types and variables).</summary>
    public int IndexedNames => _index.NamedCount;
    /// <summary>Top-level DIEs visited while indexing.</summary>
    public long DiesScanned => _index.DiesScanned;
    /// <summary>Time taken to read unit headers, abbreviations and build the index.</summary>
    public TimeSpan IndexTime { get; }
    /// <summary>Time taken to read unit headers and abbreviation tables.</summary>
    public TimeSpan HeaderTime { get; private init; }
    /// <summary>DWARF versions present (e.g. "5" or "4,5").</summary>
    public string Versions => string.Join(",", _info.Units.Select(u => u.Version).Distinct().Order());

    internal DwarfTypeFinder(DwarfInfo info, string source, CancellationToken cancel)
    {
        var sw = Stopwatch.StartNew();
        _info = info;
        Source = source;
        _index = DwarfIndex.Build(info, cancel);
        IndexTime = sw.Elapsed;
        _enumerators = new Lazy<Dictionary<string, long>>(BuildEnumeratorIndex, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Opens the DWARF of an ELF image. Returns null when the image has no .debug_info (callers decide whether
    /// that is an error).
    /// </summary>
    internal static DwarfTypeFinder? TryOpen(ElfImage elf, CancellationToken cancel = default)
    {
        var infoSec = elf.FindSection(".debug_info");
        if (!ElfImage.HasData(infoSec)) return null;
        var sw = Stopwatch.StartNew();
        var info = new DwarfInfo(elf.SectionData(infoSec!), elf.SectionData(".debug_abbrev"), elf.SectionData(".debug_str"),
            elf.SectionData(".debug_line_str"), elf.SectionData(".debug_str_offsets"), cancel);
        var headers = sw.Elapsed;
        return new DwarfTypeFinder(info, $"DWARF {elf.Path}", cancel) { HeaderTime = headers };
    }

    public KType? FindType(TypeKind kind, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        DwarfIndexKind ik;
        switch (kind)
        {
            case TypeKind.Struct: ik = DwarfIndexKind.Struct; break;
            case TypeKind.Union: ik = DwarfIndexKind.Union; break;
            case TypeKind.Enum: ik = DwarfIndexKind.Enum; break;
            case TypeKind.Typedef: ik = DwarfIndexKind.Typedef; break;
            case TypeKind.Integer or TypeKind.Bool or TypeKind.Float: ik = DwarfIndexKind.Base; break;
            case TypeKind.Void: return name == "void" ? KVoidType.Instance : null;
            default: return null;
        }
        if (!_index.TryFind(ik, name, out int die)) return null;
        var t = TypeAt(die);
        if (ik == DwarfIndexKind.Base && kind != TypeKind.Integer && t.Kind != kind) return null;
        return t;
    }

    public KType? FindVariableType(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_index.TryFind(DwarfIndexKind.Variable, name, out int die)) return null;
        var d = _info.DieAt(die);
        return d.Type < 0 ? null : TypeAt(d.Type);
    }

    public bool TryFindEnumerator(string name, out long value) => _enumerators.Value.TryGetValue(name, out value);

    /// <summary>The type described by the DIE at <paramref name="offset"/> (-1: void).</summary>
    internal KType TypeAt(int offset)
    {
        if (offset < 0) return KVoidType.Instance;
        if (_types.TryGetValue(offset, out var t)) return t;
        // Types are built lazily, so legitimate recursion is shallow; deep recursion means a reference loop.
        if (++t_depth > MaxBuildDepth)
        {
            t_depth = 0;
            throw DwarfErrors.Invalid("type references loop", offset);
        }
        try { t = Build(offset); }
        finally { if (t_depth > 0) t_depth--; }
        return _types.GetOrAdd(offset, t);
    }

    private KType Build(int offset)
    {
        var d = _info.DieAt(offset);
        string? name = _info.Name(d);
        switch (d.Tag)
        {
            case DwTag.BaseType: return BaseType(d, name);
            case DwTag.StructureType or DwTag.ClassType or DwTag.UnionType:
                {
                    bool union = d.Tag == DwTag.UnionType;
                    if (d.Declaration && name is not null
                        && _index.TryFind(union ? DwarfIndexKind.Union : DwarfIndexKind.Struct, name, out int def) && def != offset
                        && !_info.DieAt(def).Declaration)
                        return TypeAt(def);
                    ulong size = d.ByteSize?.Raw ?? 0;
                    if (d.Declaration || !d.HasChildren && d.ByteSize is null)
                        return new KStructType(name, size, union, () => System.Array.Empty<KMember>(), incomplete: d.Declaration || d.ByteSize is null);
                    return new KStructType(name, size, union, () => Members(offset));
                }
            case DwTag.EnumerationType:
                {
                    if (d.Declaration && name is not null && _index.TryFind(DwarfIndexKind.Enum, name, out int def) && def != offset
                        && !_info.DieAt(def).Declaration)
                        return TypeAt(def);
                    return Enum(d, name);
                }
            case DwTag.Typedef:
                CheckChain(offset);
                return new KRefType(TypeKind.Typedef, name, 0, Target(d.Type));
            case DwTag.PointerType or DwTag.ReferenceType or DwTag.RvalueReferenceType:
                CheckChain(offset);
                return new KRefType(TypeKind.Pointer, null, d.ByteSize?.Raw ?? (ulong)d.Unit.AddressSize, Target(d.Type));
            case DwTag.ConstType: CheckChain(offset); return new KRefType(TypeKind.Const, null, 0, Target(d.Type));
            case DwTag.VolatileType: CheckChain(offset); return new KRefType(TypeKind.Volatile, null, 0, Target(d.Type));
            case DwTag.RestrictType: CheckChain(offset); return new KRefType(TypeKind.Restrict, null, 0, Target(d.Type));
            case DwTag.AtomicType or DwTag.ImmutableType:
                CheckChain(offset);
                return d.Type == offset ? KVoidType.Instance : TypeAt(d.Type);
            case DwTag.ArrayType: CheckChain(offset); return ArrayType(d);
            case DwTag.SubroutineType or DwTag.Subprogram: return Function(d, name);
            case DwTag.UnspecifiedType: return KVoidType.Instance;
            default:
                throw new KdumpException("DwarfTypeUnsupported", KdumpErrorKind.NotSupported,
                    $"The DIE at .debug_info offset 0x{offset:x} (tag 0x{d.Tag:x}) is not a type the DWARF reader understands.", offset);
        }
    }

    private Func<KType> Target(int offset) => () => TypeAt(offset);

    private KFunctionType Function(in DwarfDie d, string? name)
    {
        var ps = new List<KParameter>();
        bool variadic = false;
        if (d.HasChildren)
        {
            var c = _info.Cursor(d.AttributesEnd, d.Unit);
            while (true)
            {
                int pos = c.Position;
                var p = _info.ReadDie(ref c, d.Unit, out bool isNull);
                if (isNull) break;
                if (p.HasChildren) { c.Position = pos; _info.SkipDie(ref c, d.Unit); }
                if (p.Tag == DwTag.UnspecifiedParameters) variadic = true;
                else if (p.Tag == DwTag.FormalParameter)
                {
                    if (ps.Count >= MaxMembers) throw DwarfErrors.Invalid("function has too many parameters", d.Offset);
                    ps.Add(new KParameter(_info.Name(p), Target(p.Type)));
                }
            }
        }
        return new KFunctionType(name, Target(d.Type), ps, variadic);
    }

    /// <summary>Refuses a typedef/qualifier/array chain that loops (its size would recurse forever).</summary>
    private void CheckChain(int offset)
    {
        int cur = offset;
        for (int i = 0; i < MaxChain; i++)
        {
            if (cur < 0) return;
            var d = _info.DieAt(cur);
            if (d.Tag is not (DwTag.Typedef or DwTag.PointerType or DwTag.ReferenceType or DwTag.RvalueReferenceType or DwTag.ConstType or DwTag.VolatileType or DwTag.RestrictType or DwTag.AtomicType
                or DwTag.ImmutableType or DwTag.ArrayType)) return;
            cur = d.Type;
        }
        throw DwarfErrors.Invalid("typedef/pointer/qualifier/array chain is too long or loops", offset);
    }

    private static KType BaseType(in DwarfDie d, string? name)
    {
        ulong size = d.ByteSize?.Raw ?? 0;
        name ??= "?";
        return d.Encoding switch
        {
            DwAte.Boolean => new KIntegerType(name, size, false, isBool: true),
            DwAte.Float or DwAte.ComplexFloat => new KFloatType(name, size),
            DwAte.Signed => new KIntegerType(name, size, true),
            DwAte.SignedChar => new KIntegerType(name, size, true, isChar: true),
            DwAte.UnsignedChar => new KIntegerType(name, size, false, isChar: true),
            _ => new KIntegerType(name, size, false),
        };
    }

    private KType ArrayType(in DwarfDie d)
    {
        var counts = new List<ulong>();
        if (d.HasChildren)
        {
            var c = _info.Cursor(d.AttributesEnd, d.Unit);
            while (true)
            {
                int pos = c.Position;
                var s = _info.ReadDie(ref c, d.Unit, out bool isNull);
                if (isNull) break;
                if (s.Tag == DwTag.SubrangeType || s.Tag == DwTag.EnumerationType) counts.Add(SubrangeCount(s));
                if (s.HasChildren) { c.Position = pos; _info.SkipDie(ref c, d.Unit); }
                if (counts.Count > 64) throw DwarfErrors.Invalid("array has too many dimensions", d.Offset);
            }
        }
        if (counts.Count == 0) counts.Add(0);
        int elem = d.Type;
        Func<KType> element = () => TypeAt(elem);
        for (int i = counts.Count - 1; i > 0; i--)
        {
            var inner = element; ulong n = counts[i];
            element = () => new KArrayType(n, inner);
        }
        return new KArrayType(counts[0], element);
    }

    private static ulong SubrangeCount(in DwarfDie s)
    {
        ulong n;
        if (s.Count is { } c) n = c.Raw;
        else if (s.UpperBound is { } ub)
        {
            if (ub.IsMinusOne) return 0; // GCC's zero-length array
            long lower = s.LowerBound?.AsInt64(true) ?? 0;
            long upper = ub.AsInt64(ub.Signed);
            if (upper < lower - 1) return 0;
            n = (ulong)(upper - lower + 1);
        }
        else return 0; // flexible array member / unknown bound
        if (n > MaxArrayCount) throw DwarfErrors.Invalid($"array bound {n} exceeds the limit", s.Offset);
        return n;
    }

    private IReadOnlyList<KMember> Members(int offset)
    {
        var d = _info.DieAt(offset);
        var list = new List<KMember>();
        var c = _info.Cursor(d.AttributesEnd, d.Unit);
        while (true)
        {
            int pos = c.Position;
            var m = _info.ReadDie(ref c, d.Unit, out bool isNull);
            if (isNull) break;
            if (m.HasChildren) { c.Position = pos; _info.SkipDie(ref c, d.Unit); }
            if (m.Tag != DwTag.Member) continue;
            if (list.Count >= MaxMembers) throw DwarfErrors.Invalid("struct has too many members", offset);
            list.Add(Member(m));
        }
        return list;
    }

    private KMember Member(in DwarfDie m)
    {
        ulong byteOffset = m.MemberLocation ?? 0;
        uint bitSize = (uint)Math.Min(m.BitSize?.Raw ?? 0, uint.MaxValue);
        ulong bitOffset;
        if (m.DataBitOffset is { } dbo) bitOffset = dbo.Raw;
        else if (bitSize != 0 && m.BitOffset is { } bo)
        {
            // DWARF 2/3: bit_offset counts from the most significant bit of the storage unit (byte_size or the type's size).
            ulong storage = m.ByteSize?.Raw ?? TypeAt(m.Type).Size;
            long from = (long)(storage * 8) - (long)bo.AsInt64(bo.Signed) - bitSize;
            bitOffset = (ulong)Math.Max(0, (long)byteOffset * 8 + from);
        }
        else bitOffset = byteOffset * 8;
        int type = m.Type;
        return new KMember(_info.Name(m), bitOffset, bitSize, () => TypeAt(type));
    }

    private KEnumType Enum(in DwarfDie d, string? name)
    {
        bool? signedType = null;
        if (d.Type >= 0 && TypeAt(d.Type).Resolve() is KIntegerType it) signedType = it.IsSigned;
        var raw = new List<(string, DwarfConst)>();
        if (d.HasChildren)
        {
            var c = _info.Cursor(d.AttributesEnd, d.Unit);
            while (true)
            {
                int pos = c.Position;
                var e = _info.ReadDie(ref c, d.Unit, out bool isNull);
                if (isNull) break;
                if (e.HasChildren) { c.Position = pos; _info.SkipDie(ref c, d.Unit); }
                if (e.Tag != DwTag.Enumerator || e.ConstValue is not { } v) continue;
                if (raw.Count >= MaxEnumerators) throw DwarfErrors.Invalid("enum has too many enumerators", d.Offset);
                raw.Add((_info.Name(e) ?? "", v));
            }
        }
        bool isSigned = signedType ?? raw.Any(r => r.Item2.Signed && unchecked((long)r.Item2.Raw) < 0);
        var list = raw.Select(r => new KeyValuePair<string, long>(r.Item1, r.Item2.AsInt64(isSigned))).ToArray();
        return new KEnumType(name, d.ByteSize?.Raw ?? 4, isSigned, list);
    }

    private Dictionary<string, long> BuildEnumeratorIndex()
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (int die in _index.EnumDies)
        {
            if (TypeAt(die) is not KEnumType e) continue;
            foreach (var kv in e.Enumerators) map.TryAdd(kv.Key, kv.Value);
        }
        return map;
    }
}
