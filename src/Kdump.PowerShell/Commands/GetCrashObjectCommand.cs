using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Program;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashObject: a typed kernel object with its members read from the dump (crash's struct and p): either a type
/// at an address, or a global variable by symbol name.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashObject", DefaultParameterSetName = AddressSet)]
[OutputType(typeof(CrashObject))]
public sealed class GetCrashObjectCommand : VmcoreCommandBase
{
    private const string AddressSet = "Address";
    private const string VariableSet = "Variable";
    private const ulong MaxObjectBytes = 1 << 20;

    /// <summary>The type of the object, e.g. "struct task_struct". Optional with -Variable when the type sources know the variable.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = AddressSet)]
    [Parameter(ParameterSetName = VariableSet)]
    [ArgumentCompleter(typeof(TypeNameCompleter))]
    public string Type { get; set; } = "";

    /// <summary>Kernel virtual addresses of objects of -Type.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = AddressSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[] Address { get; set; } = Array.Empty<ulong>();

    /// <summary>A global variable by symbol name (e.g. init_task).</summary>
    [Parameter(Mandatory = true, ParameterSetName = VariableSet)]
    [ArgumentCompleter(typeof(VariableCompleter))]
    public string Variable { get; set; } = "";

    /// <summary>Only these members (paths such as "pid" or "tasks.next" are allowed).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(MemberCompleter))]
    public string[]? Member { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        if (ParameterSetName == VariableSet)
        {
            TryEngine(() =>
            {
                var o = string.IsNullOrEmpty(Type) ? k!.Variable(Variable) : k!.Variable(Variable, Type);
                Emit(o, Variable);
            }, Variable);
            return;
        }
        Kdump.Engine.Types.KType? type = null;
        if (!TryEngine(() => type = k!.FindType(Type), Type)) return;
        foreach (var a in Address)
        {
            Cancellation.ThrowIfCancellationRequested();
            TryEngine(() => Emit(k!.Object(a, type!), null), a);
        }
    }

    private void Emit(KernelObject o, string? symbol)
    {
        // Like crash's struct: an object whose memory cannot be read (AddressNotMapped, PageExcluded ...) is an
        // error for that address, not an object full of "<AddressNotMapped>" members.
        if (o.Type.Resolve() is { Size: > 0 and <= MaxObjectBytes }) o.ReadBytes();
        var obj = CrashObject.From(o, symbol);
        if (Member is { Length: > 0 })
        {
            var picked = new List<CrashObjectMember>();
            foreach (var path in Member)
            {
                var m = o.Member(path);
                var (value, display, error) = CrashObject.Describe(m);
                picked.Add(new CrashObjectMember { Name = path, Address = m.Address, Offset = m.Address - o.Address, TypeName = m.Type.DisplayName, Value = value, Display = display, Error = error });
            }
            obj = obj.WithMembers(picked);
        }
        WriteObject(obj);
    }
}
