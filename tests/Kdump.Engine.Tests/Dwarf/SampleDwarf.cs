using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Tests.Dwarf;

/// <summary>
/// A small kernel-like program in DWARF: two units (the second only declares struct node and refers to it),
/// with a struct, bitfields, an enum with negative values, an anonymous enum, a typedef chain, arrays (2-D and
/// flexible), a union, an anonymous member, qualifiers, a function pointer and global variables.
/// </summary>
public static class SampleDwarf
{
    public static (byte[] Info, byte[] Abbrev, byte[] Str, byte[] StrOffsets) Build(int version, bool siblings = true, bool strx = false)
    {
        var w = new DwarfWriter { Siblings = siblings };
        var cu = w.Unit(version, "kernel/sample.c");
        ushort nameForm = strx ? DwForm.Strx1 : DwForm.Strp;
        if (strx) cu.A(DwAt.StrOffsetsBase, DwForm.SecOffset, 8UL);
        Die N(Die d, string n) => d.Name(n, nameForm);

        var uint_ = N(new Die(DwTag.BaseType), "unsigned int").Size(4).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.Unsigned);
        var int_ = N(new Die(DwTag.BaseType), "int").Size(4).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.Signed);
        var char_ = new Die(DwTag.BaseType).Name("char", DwForm.String).Size(1).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.SignedChar);
        var ulong_ = N(new Die(DwTag.BaseType), "long unsigned int").Size(8).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.Unsigned);
        var bool_ = N(new Die(DwTag.BaseType), "_Bool").Size(1).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.Boolean);
        var u32a = N(new Die(DwTag.Typedef), "__u32").Type(uint_);
        var u32 = new Die(DwTag.Typedef).Name("u32", DwForm.String).Type(u32a);
        var sizet = N(new Die(DwTag.Typedef), "size_t").Type(ulong_);

        var node = N(new Die(DwTag.StructureType), "node").Size(48);
        var nodePtr = new Die(DwTag.PointerType).A(DwAt.ByteSize, version >= 5 ? DwForm.ImplicitConst : DwForm.Data1, 8UL).Type(node);
        var constChar = new Die(DwTag.ConstType).Type(char_);
        var constCharPtr = new Die(DwTag.PointerType).Size(8).Type(constChar);
        var volatileUlong = new Die(DwTag.VolatileType).Type(ulong_);
        var charArr = new Die(DwTag.ArrayType).Type(char_).Add(new Die(DwTag.SubrangeType).Type(ulong_).A(DwAt.UpperBound, DwForm.Data1, 15UL));
        var intMatrix = new Die(DwTag.ArrayType).Type(int_).Add(
            new Die(DwTag.SubrangeType).A(DwAt.Count, DwForm.Data1, 2UL),
            new Die(DwTag.SubrangeType).A(DwAt.UpperBound, DwForm.Data1, 2UL));
        var flex = new Die(DwTag.ArrayType).Type(ulong_).Add(new Die(DwTag.SubrangeType).Type(ulong_));
        var zeroLen = new Die(DwTag.ArrayType).Type(int_).Add(new Die(DwTag.SubrangeType).Type(ulong_).A(DwAt.UpperBound, DwForm.Data8, ulong.MaxValue));
        var fn = new Die(DwTag.SubroutineType).Type(int_).A(0x27 /*prototyped*/, DwForm.FlagPresent).Add(new Die(DwTag.FormalParameter).Type(nodePtr));
        var fnPtr = new Die(DwTag.PointerType).Size(8).Type(fn);
        var state = N(new Die(DwTag.EnumerationType), "node_state").Size(4).Type(int_).Add(
            N(new Die(DwTag.Enumerator), "NODE_DEAD").A(DwAt.ConstValue, DwForm.Sdata, -1L),
            N(new Die(DwTag.Enumerator), "NODE_IDLE").A(DwAt.ConstValue, DwForm.Data1, 0UL),
            N(new Die(DwTag.Enumerator), "NODE_BUSY").A(DwAt.ConstValue, DwForm.Data1, 2UL));
        var flags = N(new Die(DwTag.EnumerationType), "node_flags").Size(4).Type(uint_).Add(
            N(new Die(DwTag.Enumerator), "NF_HIGH").A(DwAt.ConstValue, DwForm.Data4, 0x80000000UL));
        var anonEnum = new Die(DwTag.EnumerationType).Size(4).Type(uint_).Add(
            N(new Die(DwTag.Enumerator), "PIDTYPE_PID").A(DwAt.ConstValue, DwForm.Data1, 0UL),
            N(new Die(DwTag.Enumerator), "PIDTYPE_TGID").A(DwAt.ConstValue, DwForm.Data1, 1UL));
        var anonStruct = new Die(DwTag.StructureType).Size(8).Add(
            N(new Die(DwTag.Member), "lo").Type(uint_).A(DwAt.DataMemberLocation, DwForm.Data1, 0UL),
            N(new Die(DwTag.Member), "hi").Type(uint_).A(DwAt.DataMemberLocation, DwForm.Data1, 4UL));
        var u = N(new Die(DwTag.UnionType), "word").Size(8).Add(
            N(new Die(DwTag.Member), "whole").Type(ulong_),
            new Die(DwTag.Member).Type(anonStruct));

        Die Bitfield(string name, ulong bitSize, ulong bitPos)
        {
            var m = N(new Die(DwTag.Member), name).Type(uint_).A(DwAt.BitSize, DwForm.Data1, bitSize);
            if (version >= 5) return m.A(DwAt.DataBitOffset, DwForm.Data2, bitPos);
            // DWARF 2/3 style: storage unit at byte 24, bit offset counted from the MSB of the 4-byte unit
            return m.A(DwAt.ByteSize, DwForm.Data1, 4UL).A(DwAt.BitOffset, DwForm.Data1, 32 - (bitPos - 24 * 8) - bitSize)
                    .A(DwAt.DataMemberLocation, DwForm.Data1, 24UL);
        }
        node.Add(
            N(new Die(DwTag.Member), "id").Type(u32).A(DwAt.DataMemberLocation, version >= 5 ? DwForm.ImplicitConst : DwForm.Data1, 0UL),
            N(new Die(DwTag.Member), "state").Type(state).A(DwAt.DataMemberLocation, version >= 5 ? DwForm.ImplicitConst : DwForm.Data1, 4UL),
            N(new Die(DwTag.Member), "next").Type(nodePtr).A(DwAt.DataMemberLocation, DwForm.Exprloc, new byte[] { DwOp.PlusUconst, 8 }),
            N(new Die(DwTag.Member), "name").Type(constCharPtr).A(DwAt.DataMemberLocation, DwForm.Block1, new byte[] { DwOp.PlusUconst, 16 }),
            Bitfield("low", 3, 24 * 8),
            Bitfield("mid", 5, 24 * 8 + 3),
            N(new Die(DwTag.Member), "w").Type(u).A(DwAt.DataMemberLocation, DwForm.Udata, 32UL),
            N(new Die(DwTag.Member), "cb").Type(fnPtr).A(DwAt.DataMemberLocation, DwForm.Data1, 40UL),
            N(new Die(DwTag.Member), "data").Type(flex).A(DwAt.DataMemberLocation, DwForm.Data1, 48UL));
        var holder = N(new Die(DwTag.StructureType), "holder").Size(48).Add(
            N(new Die(DwTag.Member), "comm").Type(charArr).A(DwAt.DataMemberLocation, DwForm.Data1, 0UL),
            N(new Die(DwTag.Member), "m").Type(intMatrix).A(DwAt.DataMemberLocation, DwForm.Data1, 16UL),
            N(new Die(DwTag.Member), "empty").Type(zeroLen).A(DwAt.DataMemberLocation, DwForm.Data1, 40UL),
            N(new Die(DwTag.Member), "ticks").Type(volatileUlong).A(DwAt.DataMemberLocation, DwForm.Data1, 40UL),
            N(new Die(DwTag.Member), "flag").Type(bool_).A(DwAt.DataMemberLocation, DwForm.Data1, 47UL));
        var fnDie = N(new Die(DwTag.Subprogram), "do_work").Type(int_).A(DwAt.External, DwForm.FlagPresent).Add(
            N(new Die(DwTag.FormalParameter), "n").Type(nodePtr),
            N(new Die(DwTag.Variable), "local").Type(int_));
        var headVar = N(new Die(DwTag.Variable), "node_head").Type(node).A(DwAt.External, DwForm.FlagPresent);
        var jiffies = N(new Die(DwTag.Variable), "jiffies").Type(volatileUlong).A(DwAt.External, DwForm.FlagPresent).A(DwAt.Declaration, DwForm.FlagPresent);
        cu.Add(uint_, int_, char_, ulong_, bool_, u32a, u32, sizet, state, flags, anonEnum, fnDie, node, nodePtr, constChar, constCharPtr,
            volatileUlong, charArr, intMatrix, flex, zeroLen, fn, fnPtr, anonStruct, u, holder, headVar, jiffies);

        // Unit 2 only declares struct node (as another .c file would) and has its own int.
        var cu2 = w.Unit(version, "kernel/other.c");
        if (strx) cu2.A(DwAt.StrOffsetsBase, DwForm.SecOffset, 8UL);
        var int2 = N(new Die(DwTag.BaseType), "int").Size(4).A(DwAt.Encoding, DwForm.Data1, (ulong)DwAte.Signed);
        var nodeDecl = N(new Die(DwTag.StructureType), "node").A(DwAt.Declaration, DwForm.FlagPresent);
        var declPtr = new Die(DwTag.PointerType).Size(8).Type(nodeDecl);
        var user = N(new Die(DwTag.StructureType), "user").Size(16).Add(
            N(new Die(DwTag.Member), "n").Type(declPtr).A(DwAt.DataMemberLocation, DwForm.Data1, 0UL),
            N(new Die(DwTag.Member), "count").Type(int2).A(DwAt.DataMemberLocation, DwForm.Data1, 8UL));
        var onlyDecl = N(new Die(DwTag.StructureType), "opaque").A(DwAt.Declaration, DwForm.FlagPresent);
        var opaqueP = new Die(DwTag.PointerType).Size(8).Type(onlyDecl);
        var opaquePtr = N(new Die(DwTag.Variable), "opaque_ptr").Type(opaqueP);
        var jiffiesDef = new Die(DwTag.Variable).A(DwAt.Specification, DwForm.RefAddr, jiffies);
        cu2.Add(int2, nodeDecl, declPtr, user, onlyDecl, opaqueP, opaquePtr, jiffiesDef);
        return w.Build();
    }

    /// <summary>The sample as an ELF file with the DWARF sections (optionally compressed: 0 none, 1 zlib, 2 zstd).</summary>
    public static byte[] Elf(int version, int compression = 0, bool siblings = true, bool strx = false)
    {
        var (info, abbrev, str, so) = Build(version, siblings, strx);
        var e = new ElfWriter();
        e.Add(".text", new byte[16], ElfWriter.ShtProgbits, ElfWriter.ShfAlloc | ElfWriter.ShfExec, 0xffffffff81000000);
        if (compression == 0) e.Add(".debug_info", info); else e.AddCompressed(".debug_info", info, compression);
        if (compression == 0) e.Add(".debug_abbrev", abbrev); else e.AddCompressed(".debug_abbrev", abbrev, compression);
        e.Add(".debug_str", str);
        if (strx) e.Add(".debug_str_offsets", so);
        return e.Build();
    }
}
