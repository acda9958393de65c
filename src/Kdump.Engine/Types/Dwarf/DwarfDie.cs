namespace Kdump.Engine.Types.Dwarf;

/// <summary>Where a DIE's name lives: .debug_str, .debug_line_str, or inline in .debug_info.</summary>
internal enum DwarfStringSection : byte { None, Str, LineStr, Info }

/// <summary>A constant attribute value with its form's signedness, so data1..data8 can be sign-extended on demand.</summary>
internal readonly record struct DwarfConst(ulong Raw, bool Signed, int Size)
{
    /// <summary>The value as signed: sdata/implicit_const as is; dataN sign-extended when <paramref name="signedContext"/>.</summary>
    public long AsInt64(bool signedContext)
    {
        if (Signed || Size is 0 or >= 8) return unchecked((long)Raw);
        if (!signedContext) return unchecked((long)Raw);
        int shift = 64 - Size * 8;
        return unchecked((long)(Raw << shift) >> shift);
    }
    /// <summary>True for an all-ones value of its size (GCC's "upper bound -1" for zero-length arrays).</summary>
    public bool IsMinusOne => Signed ? unchecked((long)Raw) == -1 : Size is > 0 and < 8 ? Raw == (1UL << (Size * 8)) - 1 : Raw == ulong.MaxValue;
}

/// <summary>
/// The attributes of one DIE that the type finder uses. Parsed in one pass over the DIE's abbreviation; everything
/// else is skipped. References are absolute .debug_info offsets (-1 = absent or not resolvable).
/// </summary>
internal struct DwarfDie
{
    public int Offset;
    public DwarfUnit Unit;
    public ushort Tag;
    public bool HasChildren;
    /// <summary>Offset just past the attributes: the first child when <see cref="HasChildren"/>, else the next DIE.</summary>
    public int AttributesEnd;
    public int Sibling;
    public DwarfStringSection NameSection;
    public ulong NameOffset;
    public int Type;
    public int Specification;
    public bool Declaration;
    public bool External;
    public byte Encoding;
    public DwarfConst? ByteSize, BitSize, BitOffset, DataBitOffset, ConstValue, UpperBound, LowerBound, Count;
    /// <summary>DW_AT_data_member_location as a byte offset (constant or a simple expression); null when absent or not evaluable.</summary>
    public ulong? MemberLocation;
    public bool HasName => NameSection != DwarfStringSection.None;
}

/// <summary>The few attributes the name index reads from each top-level DIE.</summary>
internal struct DwarfScanDie
{
    public DwarfStringSection NameSection;
    public ulong NameOffset;
    public int Sibling;
    public bool Declaration;
    public bool HasType;
    public bool HasByteSize;
    public readonly bool HasName => NameSection != DwarfStringSection.None;
}
