namespace Kdump.Engine.Types;

public enum TypeKind
{
    Void, Integer, Bool, Float, Pointer, Array, Struct, Union, Enum, Typedef, Function,
    Const, Volatile, Restrict,
}

/// <summary>
/// A kernel type, as BTF or DWARF describe it. Type finders build these; references to other types are
/// resolved lazily (a DWARF index only parses what is asked for).
/// </summary>
public abstract class KType
{
    public abstract TypeKind Kind { get; }
    /// <summary>Name without the struct/union/enum keyword; null or empty when anonymous.</summary>
    public string? Name { get; }
    /// <summary>Size in bytes (0 for void, functions and incomplete types).</summary>
    public virtual ulong Size { get; }

    protected KType(string? name, ulong size) { Name = name; Size = size; }

    /// <summary>Strips typedefs and qualifiers down to the real type.</summary>
    public KType Resolve()
    {
        KType t = this;
        for (int i = 0; i < 64 && t is KRefType r && (t.Kind is TypeKind.Typedef or TypeKind.Const or TypeKind.Volatile or TypeKind.Restrict); i++)
            t = r.Target;
        return t;
    }

    /// <summary>C spelling, e.g. "struct task_struct", "unsigned long", "char *".</summary>
    public virtual string DisplayName => Name ?? "?";
    public override string ToString() => DisplayName;
}

public sealed class KVoidType : KType
{
    public static readonly KVoidType Instance = new();
    private KVoidType() : base("void", 0) { }
    public override TypeKind Kind => TypeKind.Void;
}

public sealed class KIntegerType : KType
{
    public bool IsSigned { get; }
    public bool IsBool { get; }
    public bool IsChar { get; }
    public KIntegerType(string name, ulong size, bool isSigned, bool isBool = false, bool isChar = false) : base(name, size)
    { IsSigned = isSigned; IsBool = isBool; IsChar = isChar; }
    public override TypeKind Kind => IsBool ? TypeKind.Bool : TypeKind.Integer;
}

public sealed class KFloatType : KType
{
    public KFloatType(string name, ulong size) : base(name, size) { }
    public override TypeKind Kind => TypeKind.Float;
}

/// <summary>A type that refers to one other type: pointer, typedef, const, volatile, restrict.</summary>
public class KRefType : KType
{
    private readonly Lazy<KType> _target;
    private readonly TypeKind _kind;
    public KRefType(TypeKind kind, string? name, ulong size, Func<KType> target) : base(name, size)
    { _kind = kind; _target = new Lazy<KType>(target, LazyThreadSafetyMode.ExecutionAndPublication); }
    public override TypeKind Kind => _kind;
    public KType Target => _target.Value;
    public override ulong Size => _kind == TypeKind.Pointer ? base.Size : (_kind == TypeKind.Typedef || _kind is TypeKind.Const or TypeKind.Volatile or TypeKind.Restrict) ? Target.Size : base.Size;
    public override string DisplayName => _kind switch
    {
        TypeKind.Pointer => Target.DisplayName + " *",
        TypeKind.Const => "const " + Target.DisplayName,
        TypeKind.Volatile => "volatile " + Target.DisplayName,
        TypeKind.Restrict => Target.DisplayName + " restrict",
        _ => Name ?? "?",
    };
}

public sealed class KArrayType : KType
{
    private readonly Lazy<KType> _element;
    /// <summary>Element count; 0 for a flexible array member or an unknown bound.</summary>
    public ulong Count { get; }
    public KArrayType(ulong count, Func<KType> element) : base(null, 0)
    { Count = count; _element = new Lazy<KType>(element, LazyThreadSafetyMode.ExecutionAndPublication); }
    public KType Element => _element.Value;
    public override TypeKind Kind => TypeKind.Array;
    public override ulong Size => Count * Element.Size;
    public override string DisplayName => $"{Element.DisplayName}[{(Count == 0 ? "" : Count.ToString())}]";
}

public sealed class KMember
{
    private readonly Lazy<KType> _type;
    /// <summary>Name, or null for an anonymous struct/union member (whose members are reachable through it).</summary>
    public string? Name { get; }
    /// <summary>Offset of the member from the start of its parent, in bits.</summary>
    public ulong BitOffset { get; }
    /// <summary>Bitfield width in bits, or 0 when the member is not a bitfield.</summary>
    public uint BitSize { get; }
    public KMember(string? name, ulong bitOffset, uint bitSize, Func<KType> type)
    { Name = name; BitOffset = bitOffset; BitSize = bitSize; _type = new Lazy<KType>(type, LazyThreadSafetyMode.ExecutionAndPublication); }
    public KType Type => _type.Value;
    public ulong ByteOffset => BitOffset / 8;
    public bool IsBitfield => BitSize != 0;
}

/// <summary>struct or union.</summary>
public sealed class KStructType : KType
{
    private readonly Lazy<IReadOnlyList<KMember>> _members;
    public bool IsUnion { get; }
    /// <summary>True for a forward declaration with no body.</summary>
    public bool IsIncomplete { get; }
    public KStructType(string? name, ulong size, bool isUnion, Func<IReadOnlyList<KMember>> members, bool incomplete = false) : base(name, size)
    { IsUnion = isUnion; IsIncomplete = incomplete; _members = new Lazy<IReadOnlyList<KMember>>(members, LazyThreadSafetyMode.ExecutionAndPublication); }
    public override TypeKind Kind => IsUnion ? TypeKind.Union : TypeKind.Struct;
    public IReadOnlyList<KMember> Members => _members.Value;
    public override string DisplayName => (IsUnion ? "union " : "struct ") + (Name ?? "{...}");

    /// <summary>
    /// Finds a member by name, looking into anonymous struct/union members as C does. The returned offset is
    /// the member's bit offset from the start of this type.
    /// </summary>
    public bool TryFindMember(string name, out KMember member, out ulong bitOffset) => TryFindMember(name, out member, out bitOffset, 0);

    private bool TryFindMember(string name, out KMember member, out ulong bitOffset, int depth)
    {
        member = null!; bitOffset = 0;
        if (depth > 32) return false; // anonymous members nested this deep only occur in corrupt type data
        foreach (var m in Members)
        {
            if (m.Name == name) { member = m; bitOffset = m.BitOffset; return true; }
        }
        foreach (var m in Members)
        {
            if (string.IsNullOrEmpty(m.Name) && m.Type.Resolve() is KStructType inner && inner.TryFindMember(name, out member, out var innerOff, depth + 1))
            {
                bitOffset = m.BitOffset + innerOff;
                return true;
            }
        }
        member = null!; bitOffset = 0; return false;
    }
}

public sealed class KEnumType : KType
{
    public bool IsSigned { get; }
    public IReadOnlyList<KeyValuePair<string, long>> Enumerators { get; }
    public KEnumType(string? name, ulong size, bool isSigned, IReadOnlyList<KeyValuePair<string, long>> enumerators) : base(name, size)
    { IsSigned = isSigned; Enumerators = enumerators; }
    public override TypeKind Kind => TypeKind.Enum;
    public override string DisplayName => "enum " + (Name ?? "{...}");
    public string? NameOf(long value) { foreach (var e in Enumerators) if (e.Value == value) return e.Key; return null; }
    public bool TryGetValue(string name, out long value)
    { foreach (var e in Enumerators) if (e.Key == name) { value = e.Value; return true; } value = 0; return false; }
}

public sealed class KFunctionType : KType
{
    private readonly Lazy<KType>? _return;
    public KFunctionType(string? name) : base(name, 0) { Parameters = Array.Empty<KParameter>(); }
    /// <summary>A function type with its prototype (BTF FUNC/FUNC_PROTO, DWARF subroutine types).</summary>
    public KFunctionType(string? name, Func<KType> returnType, IReadOnlyList<KParameter> parameters, bool isVariadic) : base(name, 0)
    {
        _return = new Lazy<KType>(returnType, LazyThreadSafetyMode.ExecutionAndPublication);
        Parameters = parameters;
        IsVariadic = isVariadic;
    }
    public override TypeKind Kind => TypeKind.Function;
    /// <summary>Return type (void when unknown).</summary>
    public KType ReturnType => _return?.Value ?? KVoidType.Instance;
    public IReadOnlyList<KParameter> Parameters { get; }
    public bool IsVariadic { get; }
}

/// <summary>One parameter of a function prototype.</summary>
public sealed class KParameter
{
    private readonly Lazy<KType> _type;
    public string? Name { get; }
    public KParameter(string? name, Func<KType> type) { Name = name; _type = new Lazy<KType>(type, LazyThreadSafetyMode.ExecutionAndPublication); }
    public KType Type => _type.Value;
}

/// <summary>A source of types: BTF from the dump, BTF from a vmlinux, DWARF from a debuginfo vmlinux.</summary>
public interface ITypeFinder
{
    /// <summary>Where the types come from, e.g. "BTF in the dump (__start_BTF)" or "DWARF /usr/lib/debug/...".</summary>
    string Source { get; }
    /// <summary>Finds a named type of the given kind (Struct, Union, Enum, Typedef, Integer...); null when unknown.</summary>
    KType? FindType(TypeKind kind, string name);
    /// <summary>The type of a global variable, when the source knows it (DWARF, BTF VAR/DATASEC); null otherwise.</summary>
    KType? FindVariableType(string name);
    /// <summary>Finds the enumerator constant by name across all enums (e.g. "TASK_DEAD" isn't one, "PIDTYPE_PID" is).</summary>
    bool TryFindEnumerator(string name, out long value);
}
