using System.Buffers.Binary;
using Kdump.Engine.Linux.Stack;

namespace Kdump.Engine.Tests.Stack;

/// <summary>An ORC table whose .orc_header is unknown is decoded with the register numbering its entries show (Linux 7.1 renumbered the registers).</summary>
public class OrcRegisterMapTests
{
    /// <summary>A table shaped like a kernel's: many function-entry and SP-based CALL entries, some frame-pointer ones, a few others.</summary>
    private static byte[] Table(int undefined, int sp, int bp, int prevSp, int bpIndirect, int r10)
    {
        var list = new List<(short, short, int, int, int)>();
        void Add(int count, short spOff, short bpOff, int spReg, int bpReg, int type) { for (int i = 0; i < count; i++) list.Add((spOff, bpOff, spReg, bpReg, type)); }
        Add(100, 0, 0, undefined, undefined, 0);
        Add(5, 0, 0, undefined, undefined, 1);
        Add(900, 8, 0, sp, undefined, 2);
        for (short o = 16; o <= 64; o += 8) Add(100, o, -16, sp, prevSp, 2);
        Add(200, 16, -16, bp, prevSp, 2);
        Add(50, 0, 0, bpIndirect, bp, 2);
        Add(20, 0, 0, r10, undefined, 2);
        Add(20, 0, 0, r10, bp, 2);
        Add(30, 8, 0, sp, undefined, 4);
        var bytes = new byte[list.Count * 6];
        for (int i = 0; i < list.Count; i++)
        {
            var (s, b, sr, br, t) = list[i];
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 6), s);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 6 + 2), b);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 6 + 4), (ushort)(sr | (br << 4) | (t << 8) | (t == 4 ? 0x800 : 0)));
        }
        return bytes;
    }

    [Fact]
    public void RenumberedRegistersAreInferredFromTheEntries()
    {
        // the numbering Debian's 7.2 kernel uses (read off its .orc_unwind against 6.12's)
        var map = OrcRegisterMap.Infer(Table(undefined: 0, sp: 3, bp: 4, prevSp: 8, bpIndirect: 10, r10: 6));
        Assert.NotNull(map);
        Assert.False(map!.IsStandard);
        Assert.Equal(OrcRegister.Undefined, map[0]);
        Assert.Equal(OrcRegister.Sp, map[3]);
        Assert.Equal(OrcRegister.Bp, map[4]);
        Assert.Equal(OrcRegister.PrevSp, map[8]);
        Assert.Equal(OrcRegister.BpIndirect, map[10]);
        Assert.Equal(OrcRegister.R10, map[6]);
        Assert.Equal(OrcRegister.Unknown, map[1]); // no evidence for it
        var e = OrcEntry.Decode(16, -16, (ushort)(3 | (8 << 4) | (2 << 8)), OrcFormat.V3, map);
        Assert.Equal((OrcRegister.Sp, OrcRegister.PrevSp, OrcType.Call), (e.SpReg, e.BpReg, e.Type));
    }

    [Fact]
    public void TheStandardNumberingIsRecognised()
    {
        var map = OrcRegisterMap.Infer(Table(undefined: 0, sp: 5, bp: 4, prevSp: 1, bpIndirect: 8, r10: 6));
        Assert.NotNull(map);
        Assert.True(map!.IsStandard);
        Assert.Equal(OrcRegister.Sp, map[5]);
    }

    [Fact]
    public void EntriesNotInThe64LayoutOrTooFewTellNothing()
    {
        Assert.Null(OrcRegisterMap.Infer(new byte[600]));
        var t = Table(0, 3, 4, 8, 10, 6);
        t[5] = 0x07; // a type above REGS_PARTIAL: not the 6.4 bit layout
        Assert.Null(OrcRegisterMap.Infer(t));
    }
}
