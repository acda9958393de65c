using Kdump.Engine.Types;

namespace Kdump.Engine.Program;

/// <summary>
/// Structure layouts read from the program's type finders (BTF or DWARF), never assumed: a helper that needs
/// <c>struct rb_node.rb_left</c> asks here, and when the kernel's types do not have it the error
/// (<c>KernelTypeMissing</c>) names the type or member and what it was needed for.
/// </summary>
public static class KernelLayout
{
    /// <summary>A struct/union/typedef the caller cannot work without; KernelTypeMissing names it when it is unknown.</summary>
    public static KType RequireType(this KernelProgram program, string spelling, string neededFor)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.TryFindType(spelling) is { } t && !(t.Resolve() is KStructType { IsIncomplete: true })) return t;
        if (program.TypeFinders.Count == 0) program.FindType(spelling); // throws KernelTypesUnavailable (no type source at all)
        throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound,
            $"The kernel type '{spelling}' (needed for {neededFor}) is not known to the type sources ({program.TypeSourceText}).", spelling);
    }

    /// <summary>Byte offset of a (possibly nested, "a.b") member; KernelTypeMissing names "type.member" when it is absent.</summary>
    public static ulong RequireOffset(this KernelProgram program, string typeSpelling, string member, string neededFor)
        => RequireOffset(program.RequireType(typeSpelling, neededFor), typeSpelling, member, neededFor);

    /// <summary>Byte offset of a member of a type already found.</summary>
    public static ulong RequireOffset(KType type, string typeSpelling, string member, string neededFor)
    {
        ulong off = 0;
        KType t = type;
        foreach (var part in member.Split('.'))
        {
            if (t.Resolve() is not KStructType st || !st.TryFindMember(part, out var m, out var bits))
                throw Missing(typeSpelling, member, neededFor);
            off += bits / 8;
            t = m.Type;
        }
        return off;
    }

    /// <summary>The element count of an array member (e.g. task_struct.comm → TASK_COMM_LEN); KernelTypeMissing when it is not a sized array.</summary>
    public static ulong RequireArrayLength(KType type, string typeSpelling, string member, string neededFor)
    {
        KType t = type;
        foreach (var part in member.Split('.'))
        {
            if (t.Resolve() is not KStructType st || !st.TryFindMember(part, out var m, out _))
                throw Missing(typeSpelling, member, neededFor);
            t = m.Type;
        }
        if (t.Resolve() is KArrayType { Count: > 0 } a) return a.Count;
        throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound,
            $"The kernel type's member '{typeSpelling}.{member}' (needed for {neededFor}) is not an array of known length ({t.DisplayName}).", $"{typeSpelling}.{member}");
    }

    private static KdumpException Missing(string typeSpelling, string member, string neededFor)
        => new("KernelTypeMissing", KdumpErrorKind.NotFound,
            $"The kernel type '{typeSpelling}' has no member '{member}' (needed for {neededFor}).", $"{typeSpelling}.{member}");
}
