namespace Kdump.Engine.Types.Dwarf;

/// <summary>One unit header of .debug_info (compile, partial or DWARF 5 type unit).</summary>
internal sealed class DwarfUnit
{
    public const byte UtCompile = 1, UtType = 2, UtPartial = 3, UtSkeleton = 4, UtSplitCompile = 5, UtSplitType = 6;

    /// <summary>Offset of the unit header in .debug_info.</summary>
    public int Offset { get; init; }
    /// <summary>Offset one past the unit's last byte.</summary>
    public int End { get; init; }
    public int Version { get; init; }
    public byte UnitType { get; init; }
    public int AddressSize { get; init; }
    public bool Is64 { get; init; }
    public ulong AbbrevOffset { get; init; }
    /// <summary>Offset of the unit's first DIE.</summary>
    public int FirstDie { get; init; }
    public ulong TypeSignature { get; init; }
    /// <summary>Absolute .debug_info offset of the type a type unit describes.</summary>
    public int TypeDie { get; init; }
    public DwarfAbbrevTable Abbrevs { get; set; } = null!;
    /// <summary>Set once the abbreviation table is attached and the unit DIE has been read (see DwarfInfo.EnsureReady).</summary>
    public volatile bool Ready;
    /// <summary>DW_AT_str_offsets_base of the unit DIE (DWARF 5 default: just past the 8/16-byte table header).</summary>
    public ulong StrOffsetsBase { get; set; }
    public ulong AddrBase { get; set; }
    public int OffsetSize => Is64 ? 8 : 4;

    public const int MaxUnits = 4_000_000;

    /// <summary>Reads the header at <paramref name="offset"/>; the abbreviation table is attached by the caller.</summary>
    public static DwarfUnit ReadHeader(ReadOnlySpan<byte> info, int offset)
    {
        var c = new DwarfCursor(info, offset);
        ulong length = c.U32();
        bool is64 = false;
        if (length == 0xffffffff) { is64 = true; length = c.U64(); }
        else if (length >= 0xfffffff0) throw DwarfErrors.Invalid($"reserved unit length 0x{length:x}", offset);
        if (length > (ulong)(info.Length - c.Position)) throw DwarfErrors.Invalid("unit extends past the end of .debug_info", offset);
        int end = c.Position + (int)length;
        c.Limit(end);
        int version = c.U16();
        if (version < 2 || version > 5) throw new KdumpException("DwarfVersionUnsupported", KdumpErrorKind.NotSupported, $"DWARF version {version} at .debug_info offset 0x{offset:x} is not supported (2 to 5 are).", version);
        byte unitType = UtCompile; ulong abbrevOffset; int addrSize; ulong sig = 0; int typeDie = 0;
        if (version >= 5)
        {
            unitType = c.U8();
            addrSize = c.U8();
            abbrevOffset = c.Offset(is64);
            if (unitType is UtType or UtSplitType)
            {
                sig = c.U64();
                ulong to = c.Offset(is64);
                if (to >= length) throw DwarfErrors.Invalid("type unit's type offset is outside the unit", offset);
                typeDie = offset + (int)to;
            }
            else if (unitType is UtSkeleton or UtSplitCompile) c.U64();
        }
        else
        {
            abbrevOffset = c.Offset(is64);
            addrSize = c.U8();
        }
        if (addrSize is not (1 or 2 or 4 or 8)) throw DwarfErrors.Invalid($"address size {addrSize}", offset);
        return new DwarfUnit
        {
            Offset = offset, End = end, Version = version, UnitType = unitType, AddressSize = addrSize, Is64 = is64,
            AbbrevOffset = abbrevOffset, FirstDie = c.Position, TypeSignature = sig, TypeDie = typeDie,
            StrOffsetsBase = version >= 5 ? (is64 ? 16UL : 8UL) : 0,
        };
    }
}
