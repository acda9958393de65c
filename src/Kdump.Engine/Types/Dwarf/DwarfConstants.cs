namespace Kdump.Engine.Types.Dwarf;

/// <summary>DWARF tag values used by the type finder (DWARF 5 §7.5.3, Figure 18).</summary>
internal static class DwTag
{
    public const ushort ArrayType = 0x01, ClassType = 0x02, EnumerationType = 0x04, FormalParameter = 0x05, Member = 0x0d,
        PointerType = 0x0f, ReferenceType = 0x10, CompileUnit = 0x11, StructureType = 0x13, SubroutineType = 0x15,
        Typedef = 0x16, UnionType = 0x17, UnspecifiedParameters = 0x18, Inheritance = 0x1c, SubrangeType = 0x21,
        BaseType = 0x24, ConstType = 0x26, Enumerator = 0x28, Subprogram = 0x2e, Variable = 0x34, VolatileType = 0x35,
        RestrictType = 0x37, UnspecifiedType = 0x3b, PartialUnit = 0x3c, TypeUnit = 0x41, RvalueReferenceType = 0x42,
        AtomicType = 0x47, ImmutableType = 0x4b, SkeletonUnit = 0x4a;
}

/// <summary>DWARF attribute values used by the type finder.</summary>
internal static class DwAt
{
    public const ushort Sibling = 0x01, Location = 0x02, Name = 0x03, ByteSize = 0x0b, BitOffset = 0x0c, BitSize = 0x0d,
        ConstValue = 0x1c, LowerBound = 0x22, UpperBound = 0x2f, Count = 0x37, DataMemberLocation = 0x38,
        Declaration = 0x3c, Encoding = 0x3e, External = 0x3f, Specification = 0x47, Type = 0x49, Signature = 0x69,
        DataBitOffset = 0x6b, StrOffsetsBase = 0x72, AddrBase = 0x73;
}

/// <summary>DWARF attribute forms (DWARF 2–5 plus the GNU extensions we may meet).</summary>
internal static class DwForm
{
    public const ushort Addr = 0x01, Block2 = 0x03, Block4 = 0x04, Data2 = 0x05, Data4 = 0x06, Data8 = 0x07, String = 0x08,
        Block = 0x09, Block1 = 0x0a, Data1 = 0x0b, Flag = 0x0c, Sdata = 0x0d, Strp = 0x0e, Udata = 0x0f, RefAddr = 0x10,
        Ref1 = 0x11, Ref2 = 0x12, Ref4 = 0x13, Ref8 = 0x14, RefUdata = 0x15, Indirect = 0x16, SecOffset = 0x17,
        Exprloc = 0x18, FlagPresent = 0x19, Strx = 0x1a, Addrx = 0x1b, RefSup4 = 0x1c, StrpSup = 0x1d, Data16 = 0x1e,
        LineStrp = 0x1f, RefSig8 = 0x20, ImplicitConst = 0x21, Loclistx = 0x22, Rnglistx = 0x23, RefSup8 = 0x24,
        Strx1 = 0x25, Strx2 = 0x26, Strx3 = 0x27, Strx4 = 0x28, Addrx1 = 0x29, Addrx2 = 0x2a, Addrx3 = 0x2b, Addrx4 = 0x2c,
        GnuAddrIndex = 0x1f01, GnuStrIndex = 0x1f02, GnuRefAlt = 0x1f20, GnuStrpAlt = 0x1f21;
}

/// <summary>Base type encodings (DW_ATE_*).</summary>
internal static class DwAte
{
    public const byte Address = 1, Boolean = 2, ComplexFloat = 3, Float = 4, Signed = 5, SignedChar = 6, Unsigned = 7,
        UnsignedChar = 8, Utf = 0x10;
}

/// <summary>Location expression opcodes we evaluate for member offsets.</summary>
internal static class DwOp
{
    public const byte Addr = 0x03, Const1u = 0x08, Const1s = 0x09, Const2u = 0x0a, Const2s = 0x0b, Const4u = 0x0c,
        Const4s = 0x0d, Const8u = 0x0e, Const8s = 0x0f, Constu = 0x10, Consts = 0x11, PlusUconst = 0x23, Lit0 = 0x30, Lit31 = 0x4f;
}
