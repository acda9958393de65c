using System.Buffers.Binary;
using System.Text;
using Kdump.Engine.Types;

namespace Kdump.Engine.Program;

/// <summary>
/// A typed view of kernel memory: (program, address, type), plus a bit position for bitfield members. Reading is
/// lazy: nothing is read until a value is asked for. Member paths accept "a.b.c", "a->b", "a[3].b"; '.' on a
/// pointer to a struct follows the pointer.
/// </summary>
public readonly struct KernelObject
{
    public KernelProgram Program { get; }
    public ulong Address { get; }
    public KType Type { get; }
    /// <summary>For a bitfield member: bit offset from <see cref="Address"/> and width; 0 width otherwise.</summary>
    public uint BitOffset { get; }
    public uint BitSize { get; }

    public KernelObject(KernelProgram program, ulong address, KType type, uint bitOffset = 0, uint bitSize = 0)
    {
        Program = program ?? throw new ArgumentNullException(nameof(program));
        Type = type ?? throw new ArgumentNullException(nameof(type));
        Address = address;
        BitOffset = bitOffset;
        BitSize = bitSize;
    }

    public bool IsBitfield => BitSize != 0;
    /// <summary>The type with typedefs and qualifiers removed.</summary>
    public KType ResolvedType => Type.Resolve();
    public override string ToString() => $"({Type.DisplayName})0x{Address:x}";

    // ---------------------------------------------------------------- navigation

    /// <summary>A member by path: "pid", "tasks.next", "mm->mmap_base", "cpus_mask.bits[0]".</summary>
    public KernelObject Member(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var cur = this;
        int i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.') { i++; continue; }
            if (path[i] == '-' && i + 1 < path.Length && path[i + 1] == '>') { i += 2; continue; }
            if (path[i] == '[')
            {
                int close = path.IndexOf(']', i);
                if (close < 0 || !long.TryParse(path.AsSpan(i + 1, close - i - 1), out var idx))
                    throw new KdumpException("MemberPathInvalid", KdumpErrorKind.InvalidArgument, $"Bad index in member path '{path}'.", path);
                cur = cur.Index(idx);
                i = close + 1;
                continue;
            }
            int end = i;
            while (end < path.Length && path[end] is not ('.' or '[' or '-')) end++;
            cur = cur.DirectMember(path[i..end]);
            i = end;
        }
        return cur;
    }

    public KernelObject this[string path] => Member(path);
    public KernelObject this[long index] => Index(index);

    private KernelObject DirectMember(string name)
    {
        var t = ResolvedType;
        var self = this;
        if (t is KRefType { Kind: TypeKind.Pointer } p && p.Target.Resolve() is KStructType)
        {
            self = Deref();
            t = self.ResolvedType;
        }
        if (t is not KStructType st)
            throw new KdumpException("MemberNotFound", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' is not a struct or union; it has no member '{name}'.", name);
        if (!st.TryFindMember(name, out var m, out var bitOff))
            throw new KdumpException("MemberNotFound", KdumpErrorKind.NotFound, $"'{st.DisplayName}' has no member '{name}'.", name);
        if (m.IsBitfield)
            return new KernelObject(Program, self.Address + bitOff / 8, m.Type, (uint)(bitOff % 8), m.BitSize);
        return new KernelObject(Program, self.Address + bitOff / 8, m.Type);
    }

    /// <summary>True when the type (after typedefs) has a member of that name.</summary>
    public bool HasMember(string name) => ResolvedType is KStructType st && st.TryFindMember(name, out _, out _);

    /// <summary>Element <paramref name="index"/> of an array, or of the memory a pointer points at.</summary>
    public KernelObject Index(long index)
    {
        var t = ResolvedType;
        KType elem;
        ulong baseAddr;
        if (t is KArrayType a)
        {
            if (a.Count != 0 && (index < 0 || (ulong)index >= a.Count))
                throw new KdumpException("IndexOutOfRange", KdumpErrorKind.InvalidArgument, $"Index {index} is outside {a.DisplayName}.", index);
            elem = a.Element; baseAddr = Address;
        }
        else if (t is KRefType { Kind: TypeKind.Pointer } p) { elem = p.Target; baseAddr = ReadPointer(); }
        else throw new KdumpException("NotIndexable", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' is neither an array nor a pointer.", index);
        ulong size = elem.Resolve() is KVoidType ? 1 : elem.Size;
        return new KernelObject(Program, unchecked(baseAddr + (ulong)(index * (long)size)), elem);
    }

    /// <summary>Follows a pointer: the object it points at.</summary>
    public KernelObject Deref()
    {
        if (ResolvedType is not KRefType { Kind: TypeKind.Pointer } p)
            throw new KdumpException("NotAPointer", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' is not a pointer.", Address);
        ulong target = ReadPointer();
        if (target == 0) throw new KdumpException("NullPointer", KdumpErrorKind.InvalidData, $"The {Type.DisplayName} at 0x{Address:x} is NULL.", Address);
        return new KernelObject(Program, target, p.Target);
    }

    /// <summary>The same address seen as another type.</summary>
    public KernelObject Cast(KType type) => new(Program, Address, type);
    public KernelObject Cast(string typeSpelling) => new(Program, Address, Program.FindType(typeSpelling));

    /// <summary>container_of: the object of <paramref name="type"/> whose <paramref name="member"/> lies at <paramref name="memberAddress"/>.</summary>
    public static KernelObject ContainerOf(KernelProgram program, ulong memberAddress, KType type, string member)
        => new(program, unchecked(memberAddress - MemberOffset(type, member)), type);

    /// <summary>Byte offset of a (possibly nested, "a.b") member.</summary>
    public static ulong MemberOffset(KType type, string path)
    {
        ulong off = 0;
        KType t = type;
        foreach (var part in path.Split('.'))
        {
            if (t.Resolve() is not KStructType st || !st.TryFindMember(part, out var m, out var bits))
                throw new KdumpException("MemberNotFound", KdumpErrorKind.NotFound, $"'{type.DisplayName}' has no member '{path}'.", path);
            off += bits / 8;
            t = m.Type;
        }
        return off;
    }

    // ---------------------------------------------------------------- values

    /// <summary>Raw bytes of the object (its type's size).</summary>
    public byte[] ReadBytes()
    {
        ulong size = Type.Size;
        if (size > 64 << 20) throw new KdumpException("ObjectTooLarge", KdumpErrorKind.LimitExceeded, $"'{Type.DisplayName}' is {size} bytes.", Address);
        return Program.ReadKernel(Address, (int)size);
    }

    /// <summary>An integer, enum, bool, pointer or bitfield as an unsigned 64-bit value.</summary>
    public ulong ReadUnsigned()
    {
        var t = ResolvedType;
        ulong size = t switch
        {
            KIntegerType or KEnumType or KFloatType => t.Size,
            KRefType { Kind: TypeKind.Pointer } => 8,
            _ => throw new KdumpException("NotAnInteger", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' at 0x{Address:x} is not a scalar.", Address),
        };
        if (IsBitfield)
        {
            int bytes = (int)((BitOffset + BitSize + 7) / 8);
            Span<byte> b = stackalloc byte[16];
            Program.ReadKernel(Address, b[..bytes]);
            UInt128 v = BinaryPrimitives.ReadUInt64LittleEndian(b) | ((UInt128)BinaryPrimitives.ReadUInt64LittleEndian(b[8..]) << 64);
            return (ulong)((v >> (int)BitOffset) & ((UInt128.One << (int)BitSize) - 1));
        }
        Span<byte> buf = stackalloc byte[8];
        switch (size)
        {
            case 1: return Program.ReadU8(Address);
            case 2: return Program.ReadU16(Address);
            case 4: return Program.ReadU32(Address);
            case 8: return Program.ReadU64(Address);
            default: throw new KdumpException("NotAnInteger", KdumpErrorKind.NotSupported, $"Cannot read a {size}-byte scalar.", Address);
        }
    }

    /// <summary>A signed integer (sign-extended from its size or bitfield width).</summary>
    public long ReadSigned()
    {
        ulong v = ReadUnsigned();
        int bits = IsBitfield ? (int)BitSize : (int)(ResolvedType.Size * 8);
        if (bits is > 0 and < 64) { int sh = 64 - bits; return (long)(v << sh) >> sh; }
        return (long)v;
    }

    /// <summary>The value as a long, signed or unsigned according to the type.</summary>
    public long ReadInteger() => ResolvedType is KIntegerType { IsSigned: true } or KEnumType { IsSigned: true } ? ReadSigned() : (long)ReadUnsigned();

    public ulong ReadPointer()
    {
        if (ResolvedType is not KRefType { Kind: TypeKind.Pointer })
        {
            if (ResolvedType is KIntegerType { Size: 8 }) return ReadUnsigned();
            throw new KdumpException("NotAPointer", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' at 0x{Address:x} is not a pointer.", Address);
        }
        return Program.ReadU64(Address);
    }

    public bool ReadBool() => ReadUnsigned() != 0;

    /// <summary>A char array's text up to its NUL (or its length), or the NUL-terminated string a char* points at.</summary>
    public string ReadString(int max = 4096)
    {
        var t = ResolvedType;
        if (t is KArrayType a && a.Element.Resolve() is KIntegerType { Size: 1 })
        {
            int n = (int)Math.Min(a.Count == 0 ? (ulong)max : a.Count, (ulong)max);
            var bytes = Program.ReadKernel(Address, n);
            int z = Array.IndexOf(bytes, (byte)0);
            return Encoding.UTF8.GetString(bytes, 0, z < 0 ? n : z);
        }
        if (t is KRefType { Kind: TypeKind.Pointer } p && p.Target.Resolve() is KIntegerType { Size: 1 } or KVoidType)
        {
            ulong ptr = ReadPointer();
            return ptr == 0 ? "" : Program.ReadCString(ptr, max);
        }
        throw new KdumpException("NotAString", KdumpErrorKind.InvalidArgument, $"'{Type.DisplayName}' is not a char array or char pointer.", Address);
    }

    /// <summary>Enumerator name of an enum value, when the type is an enum and the value is named.</summary>
    public string? ReadEnumName() => ResolvedType is KEnumType e ? e.NameOf(ReadInteger()) : null;

    /// <summary>Reads a scalar member as T (byte, sbyte, short, ushort, int, uint, long, ulong, bool).</summary>
    public T ReadField<T>(string path) where T : struct => Convert<T>(Member(path));

    /// <summary>Like <see cref="ReadField{T}"/>, but false when the member is missing or unreadable.</summary>
    public bool TryReadField<T>(string path, out T value) where T : struct
    {
        try { value = Convert<T>(Member(path)); return true; }
        catch (KdumpException) { value = default; return false; }
    }

    public T Read<T>() where T : struct => Convert<T>(this);

    private static T Convert<T>(KernelObject o) where T : struct
    {
        object v;
        if (typeof(T) == typeof(bool)) v = o.ReadUnsigned() != 0;
        else if (typeof(T) == typeof(ulong)) v = o.ResolvedType is KRefType ? o.ReadPointer() : o.ReadUnsigned();
        else if (typeof(T) == typeof(long)) v = o.ReadInteger();
        else if (typeof(T) == typeof(uint)) v = unchecked((uint)o.ReadUnsigned());
        else if (typeof(T) == typeof(int)) v = unchecked((int)o.ReadInteger());
        else if (typeof(T) == typeof(ushort)) v = unchecked((ushort)o.ReadUnsigned());
        else if (typeof(T) == typeof(short)) v = unchecked((short)o.ReadInteger());
        else if (typeof(T) == typeof(byte)) v = unchecked((byte)o.ReadUnsigned());
        else if (typeof(T) == typeof(sbyte)) v = unchecked((sbyte)o.ReadInteger());
        else throw new KdumpException("FieldTypeUnsupported", KdumpErrorKind.NotSupported, $"ReadField<{typeof(T).Name}> is not supported; use an integer type or bool.", typeof(T).Name);
        return (T)v;
    }
}
