using Kdump.Engine;
using System.Globalization;
using Kdump.Engine.Symbols;
using Kdump.Engine.Types;

namespace Kdump.Engine.Program;

/// <summary>Get-CrashSymbol -Address output: the symbol an address falls in (crash's sym).</summary>
public sealed class CrashSymbolLookup : Kdump.Engine.Model.DumpRecord
{
    public KernelAddress Address { get; init; }
    public string Name { get; init; } = "";
    public KernelAddress SymbolAddress { get; init; }
    public ulong Offset { get; init; }
    public char Type { get; init; }
    public ulong? Size { get; init; }
    public string? Module { get; init; }
    /// <summary>"name+0x1a" spelling.</summary>
    public string Location => Offset == 0 ? Name : $"{Name}+0x{Offset:x}";

    public static CrashSymbolLookup From(ulong address, SymbolOffset s) => new()
    {
        Address = address, Name = s.Symbol.Name, SymbolAddress = s.Symbol.Address, Offset = s.Offset, Type = s.Symbol.Type,
        Size = s.Symbol.Size, Module = s.Symbol.Module,
    };
    public override string ToString() => $"{Address:x16} ({Type}) {Location}{(Module is null ? "" : " [" + Module + "]")}";
}

/// <summary>One member of a struct/union layout (Get-CrashType).</summary>
public sealed class CrashTypeMember
{
    public string Name { get; init; } = "";
    /// <summary>Byte offset from the start of the outermost type.</summary>
    public ulong Offset { get; init; }
    /// <summary>Bit position inside the byte at <see cref="Offset"/> (bitfields), else 0.</summary>
    public uint BitOffset { get; init; }
    /// <summary>Bitfield width, 0 for ordinary members.</summary>
    public uint BitSize { get; init; }
    public ulong Size { get; init; }
    public string TypeName { get; init; } = "";
    /// <summary>Nesting depth (members of anonymous structs/unions are one deeper).</summary>
    public int Depth { get; init; }
    public bool IsBitfield => BitSize != 0;
    public override string ToString() => $"[{Offset}] {TypeName} {Name}{(IsBitfield ? " : " + BitSize : "")}";
}

/// <summary>Get-CrashType output: a type and, for structs/unions, its member layout (crash's whatis/struct -o).</summary>
public sealed class CrashTypeInfo : Kdump.Engine.Model.DumpRecord
{
    public string Name { get; init; } = "";
    public TypeKind Kind { get; init; }
    public ulong Size { get; init; }
    /// <summary>For typedefs and qualifiers: the resolved type's spelling.</summary>
    public string? ResolvedName { get; init; }
    public IReadOnlyList<CrashTypeMember> Members { get; init; } = Array.Empty<CrashTypeMember>();
    public IReadOnlyList<KeyValuePair<string, long>> Enumerators { get; init; } = Array.Empty<KeyValuePair<string, long>>();
    public string Source { get; init; } = "";
    private KType? _type;

    /// <summary>The engine type, for scripting (a method, not a property, so serialising the record never walks the type graph).</summary>
    public KType? GetKernelType() => _type;

    public static CrashTypeInfo From(KType type, string source)
    {
        var resolved = type.Resolve();
        var members = new List<CrashTypeMember>();
        if (resolved is KStructType st) Flatten(st, 0, 0, members);
        return new CrashTypeInfo
        {
            Name = type.DisplayName, Kind = type.Kind, Size = type.Size, Source = source, _type = type,
            ResolvedName = ReferenceEquals(resolved, type) ? null : resolved.DisplayName,
            Members = members,
            Enumerators = resolved is KEnumType e ? e.Enumerators : Array.Empty<KeyValuePair<string, long>>(),
        };
    }

    private static void Flatten(KStructType st, ulong bitBase, int depth, List<CrashTypeMember> into)
    {
        if (depth > 8 || into.Count > 10_000) return;
        foreach (var m in st.Members)
        {
            ulong bits = bitBase + m.BitOffset;
            var mt = m.Type;
            if (string.IsNullOrEmpty(m.Name) && mt.Resolve() is KStructType inner)
            {
                into.Add(new CrashTypeMember { Name = "(anonymous " + (inner.IsUnion ? "union" : "struct") + ")", Offset = bits / 8, Size = inner.Size, TypeName = inner.DisplayName, Depth = depth });
                Flatten(inner, bits, depth + 1, into);
                continue;
            }
            into.Add(new CrashTypeMember
            {
                Name = m.Name ?? "", Offset = bits / 8, BitOffset = m.IsBitfield ? (uint)(bits % 8) : 0, BitSize = m.BitSize,
                Size = m.IsBitfield ? 0 : SafeSize(mt), TypeName = mt.DisplayName, Depth = depth,
            });
        }
    }

    internal static ulong SafeSize(KType t) { try { return t.Size; } catch (KdumpException) { return 0; } }
    public override string ToString() => $"{Name} (size {Size})";
}

/// <summary>One member of a typed object (Get-CrashObject), with its value read from the dump.</summary>
public sealed class CrashObjectMember
{
    public string Name { get; init; } = "";
    public KernelAddress Address { get; init; }
    public ulong Offset { get; init; }
    public string TypeName { get; init; } = "";
    /// <summary>Integer (long/ulong), pointer (ulong), string (char arrays), or null for aggregates and unreadable members.</summary>
    public object? Value { get; init; }
    /// <summary>crash-style text: decimal for integers, 0x… for pointers (plus the symbol), "…" for char arrays, {…} for aggregates.</summary>
    public string Display { get; init; } = "";
    /// <summary>Why the value could not be read (e.g. PageExcluded), else null.</summary>
    public string? Error { get; init; }
    public override string ToString() => $"{Name} = {Display}";
}

/// <summary>Get-CrashObject output: a typed kernel object at an address (crash's struct/p) — no PSObject.</summary>
public sealed class CrashObject : Kdump.Engine.Model.DumpRecord
{
    public KernelAddress Address { get; init; }
    public string TypeName { get; init; } = "";
    public ulong Size { get; init; }
    /// <summary>The symbol the object belongs to (for variables), else null.</summary>
    public string? Symbol { get; init; }
    public IReadOnlyList<CrashObjectMember> Members { get; init; } = Array.Empty<CrashObjectMember>();
    /// <summary>The scalar value when the object is not a struct/union.</summary>
    public object? Value { get; init; }
    public string Display { get; init; } = "";
    private KernelObject _object;

    /// <summary>The engine object, for further navigation in scripts (a method, not a property, so serialising the record never reads the dump).</summary>
    public KernelObject GetKernelObject() => _object;

    /// <summary>A copy of this object showing only <paramref name="members"/>.</summary>
    public CrashObject WithMembers(IReadOnlyList<CrashObjectMember> members) => new()
    {
        Vmcore = Vmcore, Address = Address, TypeName = TypeName, Size = Size, Symbol = Symbol, Members = members, Value = Value, Display = Display, _object = _object,
    };

    public CrashObjectMember? this[string name] => Members.FirstOrDefault(m => m.Name == name);

    public static CrashObject From(KernelObject o, string? symbol = null)
    {
        var t = o.ResolvedType;
        var members = new List<CrashObjectMember>();
        if (t is KStructType st) AddMembers(o, st, 0, members);
        var (value, display, _) = t is KStructType ? (null, $"{{{st2(t)}}}", null) : Describe(o);
        return new CrashObject
        {
            Address = o.Address, TypeName = o.Type.DisplayName, Size = CrashTypeInfo.SafeSize(o.Type), Symbol = symbol,
            Members = members, Value = value, Display = display, _object = o,
        };
        static string st2(KType t) => ((KStructType)t).Members.Count + " members";
    }

    private static void AddMembers(KernelObject parent, KStructType st, ulong bitBase, List<CrashObjectMember> into)
    {
        foreach (var m in st.Members)
        {
            ulong bits = bitBase + m.BitOffset;
            if (string.IsNullOrEmpty(m.Name) && m.Type.Resolve() is KStructType inner)
            {
                if (into.Count < 4096) AddMembers(parent, inner, bits, into);
                continue;
            }
            var child = m.IsBitfield
                ? new KernelObject(parent.Program, parent.Address + bits / 8, m.Type, (uint)(bits % 8), m.BitSize)
                : new KernelObject(parent.Program, parent.Address + bits / 8, m.Type);
            var (value, display, error) = Describe(child);
            into.Add(new CrashObjectMember
            {
                Name = m.Name ?? "", Address = child.Address, Offset = bits / 8, TypeName = m.Type.DisplayName,
                Value = value, Display = display, Error = error,
            });
        }
    }

    /// <summary>Reads and formats one value; never throws for unreadable memory (the error is reported instead).</summary>
    public static (object? Value, string Display, string? Error) Describe(KernelObject o)
    {
        try
        {
            var t = o.ResolvedType;
            switch (t)
            {
                case KStructType s: return (null, $"{{...}} ({s.DisplayName} at 0x{o.Address:x})", null);
                case KArrayType a when a.Element.Resolve() is KIntegerType { Size: 1, IsChar: true }:
                    { var str = o.ReadString((int)Math.Min(a.Count == 0 ? 256 : a.Count, 4096)); return (str, "\"" + str + "\"", null); }
                case KArrayType a: return (null, $"[{a.Count}] {a.Element.DisplayName} at 0x{o.Address:x}", null);
                case KRefType { Kind: TypeKind.Pointer }:
                    {
                        ulong p = o.ReadPointer();
                        var sym = p == 0 ? null : o.Program.Symbolize(p);
                        return (p, p == 0 ? "0x0" : $"0x{p:x}" + (sym is { } so ? $" <{so}>" : ""), null);
                    }
                case KEnumType e:
                    { long v = o.ReadInteger(); var n = e.NameOf(v); return (v, n is null ? v.ToString(CultureInfo.InvariantCulture) : $"{n} ({v})", null); }
                case KIntegerType { IsBool: true }: { bool b = o.ReadBool(); return (b, b ? "true" : "false", null); }
                case KIntegerType i when i.IsSigned: { long v = o.ReadSigned(); return (v, v.ToString(CultureInfo.InvariantCulture), null); }
                case KIntegerType: { ulong v = o.ReadUnsigned(); return (v, v.ToString(CultureInfo.InvariantCulture), null); }
                case KFloatType f when f.Size is 4 or 8:
                    {
                        var bytes = o.ReadBytes();
                        double d = f.Size == 4 ? BitConverter.ToSingle(bytes) : BitConverter.ToDouble(bytes);
                        return (d, d.ToString(CultureInfo.InvariantCulture), null);
                    }
                default: return (null, $"({t.DisplayName})", null);
            }
        }
        catch (KdumpException ex) { return (null, "<" + ex.ErrorId + ">", ex.Message); }
    }

    public override string ToString() => $"({TypeName}) 0x{Address:x}";
}

/// <summary>Read-CrashMemory -Width output: one row of words (crash's rd -8/-16/-32/-64).</summary>
public sealed class CrashMemoryWords : Kdump.Engine.Model.DumpRecord
{
    public KernelAddress Address { get; init; }
    public string AddressSpace { get; init; } = "virtual";
    /// <summary>Word width in bits: 8, 16, 32 or 64.</summary>
    public int Width { get; init; }
    public IReadOnlyList<ulong> Values { get; init; } = Array.Empty<ulong>();
    /// <summary>The symbol containing <see cref="Address"/>, when known.</summary>
    public string? Symbol { get; init; }
    public string Text
    {
        get
        {
            int digits = Width / 4;
            var words = string.Join(" ", Values.Select(v => v.ToString("x" + digits, CultureInfo.InvariantCulture)));
            return $"{Address:x16}:  {words}";
        }
    }
    public override string ToString() => Text;
}
