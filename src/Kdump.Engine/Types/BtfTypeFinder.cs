using System.Text;

namespace Kdump.Engine.Types;

/// <summary>
/// An <see cref="ITypeFinder"/> over a BTF blob (the kernel's own BTF read from the dump between __start_BTF and
/// __stop_BTF, or a vmlinux .BTF section). KTypes are created on first use and cached by type id; the name index
/// is built once when the finder is created.
/// </summary>
public sealed class BtfTypeFinder : ITypeFinder
{
    private readonly BtfReader _btf;
    private readonly KType?[] _cache;
    private readonly Dictionary<string, int> _structs = new(StringComparer.Ordinal), _unions = new(StringComparer.Ordinal),
        _enums = new(StringComparer.Ordinal), _typedefs = new(StringComparer.Ordinal), _base = new(StringComparer.Ordinal),
        _funcs = new(StringComparer.Ordinal), _vars = new(StringComparer.Ordinal);
    private readonly Lazy<Dictionary<string, long>> _enumerators;

    public string Source { get; }
    public BtfReader Reader => _btf;
    public int TypeCount => _btf.Count - 1;

    public BtfTypeFinder(byte[] blob, string source) : this(new BtfReader(blob), source) { }

    public BtfTypeFinder(BtfReader btf, string source)
    {
        _btf = btf;
        Source = source;
        _cache = new KType?[btf.Count];
        for (int id = 1; id < btf.Count; id++)
        {
            uint nameOff = btf.NameOffsetOf(id);
            if (nameOff == 0) continue;
            var kind = btf.KindOf(id);
            var dict = kind switch
            {
                BtfKind.Struct => _structs,
                BtfKind.Union => _unions,
                BtfKind.Enum or BtfKind.Enum64 => _enums,
                BtfKind.Typedef => _typedefs,
                BtfKind.Int or BtfKind.Float => _base,
                BtfKind.Func => _funcs,
                BtfKind.Var => _vars,
                BtfKind.Fwd => btf.KindFlagOf(id) ? _unions : _structs,
                _ => null,
            };
            if (dict is null) continue;
            string name = btf.StringAt(nameOff)!;
            if (dict.TryGetValue(name, out var prev))
            {
                // keep the first complete definition: a FWD or an empty declaration loses to a body
                if (IsDeclarationOnly(prev) && !IsDeclarationOnly(id)) dict[name] = id;
            }
            else dict[name] = id;
        }
        _enumerators = new Lazy<Dictionary<string, long>>(BuildEnumerators, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private bool IsDeclarationOnly(int id) => _btf.KindOf(id) == BtfKind.Fwd;

    /// <summary>Named type ids by category, e.g. for completion and listings.</summary>
    public IEnumerable<string> StructNames => _structs.Keys;
    public IEnumerable<string> UnionNames => _unions.Keys;
    public IEnumerable<string> EnumNames => _enums.Keys;
    public IEnumerable<string> TypedefNames => _typedefs.Keys;
    public IEnumerable<string> VariableNames => _vars.Keys;

    public KType? FindType(TypeKind kind, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var dict = kind switch
        {
            TypeKind.Struct => _structs,
            TypeKind.Union => _unions,
            TypeKind.Enum => _enums,
            TypeKind.Typedef => _typedefs,
            TypeKind.Integer or TypeKind.Bool or TypeKind.Float => _base,
            TypeKind.Function => _funcs,
            _ => null,
        };
        if (dict is null) return null;
        if (name == "void" && kind == TypeKind.Integer) return KVoidType.Instance;
        return dict.TryGetValue(name, out var id) ? Get(id) : null;
    }

    public KType? FindVariableType(string name) => _vars.TryGetValue(name, out var id) ? Get((int)_btf.SizeOrType(id)) : null;

    public bool TryFindEnumerator(string name, out long value) => _enumerators.Value.TryGetValue(name, out value);

    private Dictionary<string, long> BuildEnumerators()
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int id = 1; id < _btf.Count; id++)
        {
            var kind = _btf.KindOf(id);
            if (kind is not (BtfKind.Enum or BtfKind.Enum64)) continue;
            foreach (var e in ((KEnumType)Get(id)).Enumerators) d.TryAdd(e.Key, e.Value);
        }
        return d;
    }

    /// <summary>The KType for a BTF type id (0 = void). Cached.</summary>
    public KType Get(int id)
    {
        if (id == 0) return KVoidType.Instance;
        var t = Volatile.Read(ref _cache[id]);
        if (t is not null) return t;
        t = Create(id);
        return Interlocked.CompareExchange(ref _cache[id], t, null) ?? t;
    }

    private Func<KType> Ref(int id) => () => Get(id);

    private KType Create(int id)
    {
        var b = _btf;
        var kind = b.KindOf(id);
        string? name = b.NameOf(id);
        uint st = b.SizeOrType(id);
        int x = b.ExtraOf(id);
        switch (kind)
        {
            case BtfKind.Int:
                {
                    uint enc = (b.U32(x) >> 24) & 0xf;
                    bool signed = (enc & 1) != 0, isChar = (enc & 2) != 0 || name is "char" or "signed char" or "unsigned char", isBool = (enc & 4) != 0;
                    return new KIntegerType(name ?? "int", st, signed, isBool, isChar);
                }
            case BtfKind.Float: return new KFloatType(name ?? "float", st);
            case BtfKind.Ptr: return new KRefType(TypeKind.Pointer, null, 8, Ref((int)st));
            case BtfKind.Typedef: return new KRefType(TypeKind.Typedef, name, 0, Ref((int)st));
            case BtfKind.Const: return new KRefType(TypeKind.Const, null, 0, Ref((int)st));
            case BtfKind.Volatile: return new KRefType(TypeKind.Volatile, null, 0, Ref((int)st));
            case BtfKind.Restrict: return new KRefType(TypeKind.Restrict, null, 0, Ref((int)st));
            case BtfKind.TypeTag: return Get((int)st); // __user/__percpu/__rcu annotations are transparent
            case BtfKind.Array:
                {
                    uint elem = b.U32(x), count = b.U32(x + 8);
                    return new KArrayType(count, Ref((int)elem));
                }
            case BtfKind.Struct:
            case BtfKind.Union:
                {
                    int vlen = b.VlenOf(id);
                    bool kf = b.KindFlagOf(id);
                    return new KStructType(name, st, kind == BtfKind.Union, () =>
                    {
                        var list = new KMember[vlen];
                        for (int i = 0; i < vlen; i++)
                        {
                            int m = x + i * 12;
                            uint off = b.U32(m + 8);
                            list[i] = new KMember(b.StringAt(b.U32(m)), kf ? off & 0xffffff : off, kf ? off >> 24 : 0, Ref((int)b.U32(m + 4)));
                        }
                        return list;
                    });
                }
            case BtfKind.Fwd:
                return new KStructType(name, 0, b.KindFlagOf(id), () => Array.Empty<KMember>(), incomplete: true);
            case BtfKind.Enum:
            case BtfKind.Enum64:
                {
                    int vlen = b.VlenOf(id);
                    bool signed = b.KindFlagOf(id);
                    var list = new KeyValuePair<string, long>[vlen];
                    for (int i = 0; i < vlen; i++)
                    {
                        long v;
                        int m;
                        if (kind == BtfKind.Enum) { m = x + i * 8; v = signed ? b.S32(m + 4) : b.U32(m + 4); }
                        else { m = x + i * 12; v = unchecked((long)(((ulong)b.U32(m + 8) << 32) | b.U32(m + 4))); }
                        list[i] = new(b.StringAt(b.U32(m)) ?? "", v);
                    }
                    return new KEnumType(name, st, signed, list);
                }
            case BtfKind.FuncProto:
                {
                    int vlen = b.VlenOf(id);
                    var ps = new List<KParameter>(vlen);
                    bool variadic = false;
                    for (int i = 0; i < vlen; i++)
                    {
                        int m = x + i * 8;
                        uint t = b.U32(m + 4);
                        if (t == 0 && i == vlen - 1) { variadic = true; break; }
                        ps.Add(new KParameter(b.StringAt(b.U32(m)), Ref((int)t)));
                    }
                    return new KFunctionType(null, Ref((int)st), ps, variadic);
                }
            case BtfKind.Func:
                {
                    var proto = (KFunctionType)Get((int)st);
                    return new KFunctionType(name, () => proto.ReturnType, proto.Parameters, proto.IsVariadic);
                }
            case BtfKind.Var: return Get((int)st);
            case BtfKind.DataSec:
                return new KStructType(name, st, false, () =>
                {
                    int vlen = b.VlenOf(id);
                    var list = new KMember[vlen];
                    for (int i = 0; i < vlen; i++)
                    {
                        int m = x + i * 12;
                        int varId = (int)b.U32(m);
                        list[i] = new KMember(b.NameOf(varId), (ulong)b.U32(m + 4) * 8, 0, Ref(varId));
                    }
                    return list;
                });
            case BtfKind.DeclTag: return Get((int)st);
            default:
                throw new KdumpException("BtfCorrupt", KdumpErrorKind.InvalidData, $"BTF type {id} has unknown kind {kind}.", id);
        }
    }
}
