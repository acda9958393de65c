using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashType: a kernel type and its layout — members with byte offsets, sizes and bitfields (crash's whatis and
/// struct -o). Types come from the kernel's BTF in the dump unless another type source is loaded.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashType")]
[OutputType(typeof(CrashTypeInfo))]
public sealed class GetCrashTypeCommand : VmcoreCommandBase
{
    /// <summary>C spellings: "struct task_struct", "union thread_union", "enum pid_type", "pid_t", or a bare struct name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ArgumentCompleter(typeof(TypeNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        foreach (var n in Name)
        {
            TryEngine(() =>
            {
                var t = k!.FindType(n);
                WriteObject(CrashTypeInfo.From(t, k.TypeSourceText));
            }, n);
        }
    }
}
